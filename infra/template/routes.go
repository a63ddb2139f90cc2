package template

import (
	"fmt"
	"sort"
	"strings"
)

// Route is one API Gateway route of the template: a method on a resource path, served by one function.
type Route struct {
	// Method is the HTTP method in upper case, e.g. "GET".
	Method string
	// Path is the API Gateway resource path as the proxy event's Resource carries it, e.g.
	// "/credential-offer/{offerId}".
	Path string
	// FunctionLogicalID is the logical ID of the AWS::Serverless::Function that serves the route.
	FunctionLogicalID string
}

// Routes returns every `Type: Api` event of every function in the SAM template at templatePath, sorted by
// path, then method. It fails when an event lacks a method or a path, or when two events claim the same
// method and path.
func Routes(templatePath string) ([]Route, error) {
	t, err := open(templatePath)
	if err != nil {
		return nil, fmt.Errorf("read routes: %w", err)
	}
	var routes []Route
	owner := map[string]string{}
	for id, fn := range t.GetAllServerlessFunctionResources() {
		for eventName, ev := range fn.Events {
			if ev.Type != "Api" {
				continue
			}
			if ev.Properties == nil || ev.Properties.ApiEvent == nil {
				return nil, fmt.Errorf("read routes: %s event %s: not a valid Api event (Path, Method, RestApiId)", id, eventName)
			}
			api := ev.Properties.ApiEvent
			method := strings.ToUpper(strings.TrimSpace(api.Method))
			path := strings.TrimSpace(api.Path)
			if method == "" || !strings.HasPrefix(path, "/") {
				return nil, fmt.Errorf("read routes: %s event %s: method %q and path %q must both be set, path starting with /", id, eventName, api.Method, api.Path)
			}
			key := method + " " + path
			if other, ok := owner[key]; ok {
				return nil, fmt.Errorf("read routes: %s is mapped twice, to %s and %s", key, other, id)
			}
			owner[key] = id
			routes = append(routes, Route{Method: method, Path: path, FunctionLogicalID: id})
		}
	}
	sort.Slice(routes, func(i, j int) bool {
		if routes[i].Path != routes[j].Path {
			return routes[i].Path < routes[j].Path
		}
		return routes[i].Method < routes[j].Method
	})
	return routes, nil
}
