package gateway

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/sdjwt-issuer/issuer/infra/template"
)

// segmentKind orders how specific a resource path segment is: API Gateway prefers a literal segment over a
// {param} and a {param} over a greedy {proxy+}.
type segmentKind int

const (
	literalSegment segmentKind = iota
	paramSegment
	greedySegment
)

type segment struct {
	kind  segmentKind
	value string // the literal, or the parameter name
}

// route is one template route, parsed for matching.
type route struct {
	method   string // upper case; ANY matches every method
	resource string
	function string
	segments []segment
}

// routeTable matches request paths against the template's resource paths the way API Gateway does.
type routeTable struct {
	routes []*route
}

// newRouteTable parses routes; malformed or duplicate routes are left out and reported in the error.
func newRouteTable(routes []template.Route) (*routeTable, error) {
	t := &routeTable{}
	seen := map[string]bool{}
	var errs []error
	for _, r := range routes {
		segs, err := parseResource(r.Path)
		if err != nil {
			errs = append(errs, fmt.Errorf("route %s %s: %w", r.Method, r.Path, err))
			continue
		}
		method := strings.ToUpper(strings.TrimSpace(r.Method))
		if method == "" || r.FunctionLogicalID == "" {
			errs = append(errs, fmt.Errorf("route %s %s: method and function are required", r.Method, r.Path))
			continue
		}
		key := method + " " + r.Path
		if seen[key] {
			errs = append(errs, fmt.Errorf("route %s is defined twice", key))
			continue
		}
		seen[key] = true
		t.routes = append(t.routes, &route{method: method, resource: r.Path, function: r.FunctionLogicalID, segments: segs})
	}
	return t, errors.Join(errs...)
}

// parseResource splits an API Gateway resource path such as /a/{id}/{proxy+} into segments.
func parseResource(resource string) ([]segment, error) {
	if !strings.HasPrefix(resource, "/") {
		return nil, fmt.Errorf("resource path must start with /")
	}
	if resource == "/" {
		return nil, nil
	}
	parts := strings.Split(strings.TrimPrefix(resource, "/"), "/")
	segs := make([]segment, 0, len(parts))
	for i, p := range parts {
		switch {
		case p == "":
			return nil, fmt.Errorf("empty segment")
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
			if i != len(parts)-1 {
				return nil, fmt.Errorf("greedy parameter %s must be the last segment", p)
			}
			segs = append(segs, segment{kind: greedySegment, value: p[1 : len(p)-2]})
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			segs = append(segs, segment{kind: paramSegment, value: p[1 : len(p)-1]})
		case strings.ContainsAny(p, "{}"):
			return nil, fmt.Errorf("segment %q mixes a parameter with literal text, which API Gateway does not allow", p)
		default:
			segs = append(segs, segment{kind: literalSegment, value: p})
		}
	}
	return segs, nil
}

// splitPath splits an escaped request path into its raw segments; a trailing slash is ignored like API Gateway
// ignores it. ok is false for paths no resource can match (empty segments).
func splitPath(escapedPath string) (segs []string, ok bool) {
	p := strings.TrimPrefix(escapedPath, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil, true
	}
	segs = strings.Split(p, "/")
	for _, s := range segs {
		if s == "" {
			return nil, false
		}
	}
	return segs, true
}

// resolve finds the most specific resource matching escapedPath. It returns the routes of that resource (one per
// method) and the path parameters, with values as the client encoded them (API Gateway REST does not decode
// path parameters).
func (t *routeTable) resolve(escapedPath string) (resource string, params map[string]string, found bool) {
	segs, ok := splitPath(escapedPath)
	if !ok {
		return "", nil, false
	}
	var best *route
	var bestParams map[string]string
	for _, r := range t.routes {
		p, ok := matchSegments(r.segments, segs)
		if !ok {
			continue
		}
		if best == nil || moreSpecific(r, best) {
			best, bestParams = r, p
		}
	}
	if best == nil {
		return "", nil, false
	}
	return best.resource, bestParams, true
}

// lookup returns the route for method on resource: the exact method first, then ANY.
func (t *routeTable) lookup(method, resource string) *route {
	var anyRoute *route
	for _, r := range t.routes {
		if r.resource != resource {
			continue
		}
		if r.method == method {
			return r
		}
		if r.method == "ANY" {
			anyRoute = r
		}
	}
	return anyRoute
}

// functions returns the logical IDs the table routes to, sorted.
func (t *routeTable) functions() []string {
	set := map[string]bool{}
	for _, r := range t.routes {
		set[r.function] = true
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func matchSegments(pattern []segment, segs []string) (map[string]string, bool) {
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, p := range pattern {
		if p.kind == greedySegment {
			if i >= len(segs) {
				return nil, false // {proxy+} needs at least one segment
			}
			set(p.value, strings.Join(segs[i:], "/"))
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		switch p.kind {
		case literalSegment:
			v, err := url.PathUnescape(segs[i])
			if err != nil || v != p.value {
				return nil, false
			}
		case paramSegment:
			set(p.value, segs[i])
		}
	}
	if len(pattern) != len(segs) {
		return nil, false
	}
	return params, true
}

// moreSpecific reports whether a beats b: compared segment by segment, a literal beats a parameter, which beats
// a greedy parameter; on a tie the longer path wins.
func moreSpecific(a, b *route) bool {
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		if a.segments[i].kind != b.segments[i].kind {
			return a.segments[i].kind < b.segments[i].kind
		}
	}
	return len(a.segments) > len(b.segments)
}
