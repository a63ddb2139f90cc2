package gateway

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// requestTimeLayout is requestContext.requestTime's format, e.g. 27/Nov/2025:00:00:00 +0000.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// proxyEvent is events.APIGatewayProxyRequest as API Gateway puts it on the wire: body is null when there is
// none and isBase64Encoded is always present (the aws-lambda-go type omits false).
type proxyEvent struct {
	Resource                        string                               `json:"resource"`
	Path                            string                               `json:"path"`
	HTTPMethod                      string                               `json:"httpMethod"`
	Headers                         map[string]string                    `json:"headers"`
	MultiValueHeaders               map[string][]string                  `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string                    `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string                  `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string                    `json:"pathParameters"`
	StageVariables                  map[string]string                    `json:"stageVariables"`
	RequestContext                  events.APIGatewayProxyRequestContext `json:"requestContext"`
	Body                            *string                              `json:"body"`
	IsBase64Encoded                 bool                                 `json:"isBase64Encoded"`
}

// requestInfo is what the gateway knows about one request beyond the HTTP request itself.
type requestInfo struct {
	requestID string
	resource  string
	path      string // the path the API sees: without the base path (stage), like the event's path
	params    map[string]string
	received  time.Time
	stage     string
	accountID string
	apiID     string
}

// buildProxyEvent turns an HTTP request and its (already read) body into the proxy event API Gateway's REST API
// sends with a Lambda proxy integration (payload v1).
func buildProxyEvent(r *http.Request, body []byte, info requestInfo) proxyEvent {
	sourceIP := clientIP(r)
	headers, multiHeaders := proxyHeaders(r, sourceIP)
	query, multiQuery := proxyQuery(r)
	ev := proxyEvent{
		Resource:                        info.resource,
		Path:                            info.path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multiHeaders,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  info.params,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         info.accountID,
			ResourceID:        resourceID(info.resource),
			Stage:             info.stage,
			DomainName:        hostname(r.Host),
			DomainPrefix:      strings.SplitN(hostname(r.Host), ".", 2)[0],
			RequestID:         info.requestID,
			ExtendedRequestID: info.requestID,
			Protocol:          r.Proto,
			Identity:          events.APIGatewayRequestIdentity{SourceIP: sourceIP, UserAgent: r.UserAgent()},
			ResourcePath:      info.resource,
			Path:              r.URL.Path,
			HTTPMethod:        r.Method,
			RequestTime:       info.received.UTC().Format(requestTimeLayout),
			RequestTimeEpoch:  info.received.UnixMilli(),
			APIID:             info.apiID,
		},
	}
	if len(body) > 0 {
		var s string
		if isTextual(r.Header.Get("Content-Type"), body) {
			s = string(body)
		} else {
			s = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
		ev.Body = &s
	}
	return ev
}

// proxyHeaders gives the single-value (last value wins, as API Gateway does) and multi-value header maps, with
// Host and the X-Forwarded-* headers API Gateway adds. nil when the request has no header at all.
func proxyHeaders(r *http.Request, sourceIP string) (map[string]string, map[string][]string) {
	multi := make(map[string][]string, len(r.Header)+4)
	for k, vs := range r.Header {
		multi[k] = append([]string(nil), vs...)
	}
	if r.Host != "" {
		multi["Host"] = []string{r.Host}
	}
	if sourceIP != "" {
		if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
			multi["X-Forwarded-For"] = []string{strings.Join(prior, ", ") + ", " + sourceIP}
		} else {
			multi["X-Forwarded-For"] = []string{sourceIP}
		}
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	multi["X-Forwarded-Proto"] = []string{proto}
	if port := localPort(r); port != "" {
		multi["X-Forwarded-Port"] = []string{port}
	}
	single := make(map[string]string, len(multi))
	for k, vs := range multi {
		if len(vs) > 0 {
			single[k] = vs[len(vs)-1]
		}
	}
	return single, multi
}

// proxyQuery gives the decoded query parameters, single-value (last wins) and multi-value; nil when there are
// none, as API Gateway sends null.
func proxyQuery(r *http.Request) (map[string]string, map[string][]string) {
	q := r.URL.Query()
	if len(q) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(q))
	multi := make(map[string][]string, len(q))
	for k, vs := range q {
		multi[k] = vs
		single[k] = vs[len(vs)-1]
	}
	return single, multi
}

// isTextual reports whether API Gateway would pass a body of this content type as text rather than base64.
// Without a content type, a body is text when it is valid UTF-8.
func isTextual(contentType string, body []byte) bool {
	if strings.TrimSpace(contentType) == "" {
		return utf8.Valid(body)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/x-www-form-urlencoded",
		mt == "application/javascript", mt == "application/jwt", strings.HasSuffix(mt, "+jwt"),
		mt == "application/x-amz-json-1.0", mt == "application/x-amz-json-1.1":
		// A text body that is not UTF-8 travels base64-encoded, byte for byte: as a JSON string it would
		// have its invalid bytes replaced by U+FFFD, and the function could not refuse what the client sent
		// (on AWS, BinaryMediaTypes */* passes every body base64-encoded).
		return utf8.Valid(body)
	}
	return false
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func localPort(r *http.Request) string {
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(addr.String()); err == nil {
			return port
		}
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		return port
	}
	return ""
}

func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// resourceID is a stable short id per resource path, like API Gateway's resource ids.
func resourceID(resource string) string {
	var h uint32 = 2166136261
	for i := 0; i < len(resource); i++ {
		h ^= uint32(resource[i])
		h *= 16777619
	}
	return fmt.Sprintf("%06x", h&0xffffff)
}

// errBadProxyResponse reports a function answer API Gateway would reject as a malformed Lambda proxy response.
var errBadProxyResponse = errors.New("malformed Lambda proxy response")

// httpResponse is a decoded proxy response, ready to write.
type httpResponse struct {
	status int
	header http.Header
	body   []byte
}

// decodeProxyResponse decodes a function's proxy response as API Gateway does: headers and multiValueHeaders are
// merged (for a name in both, only the multi-value values are kept), and a base64 body is decoded.
func decodeProxyResponse(payload []byte) (httpResponse, error) {
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return httpResponse{}, fmt.Errorf("%w: %w", errBadProxyResponse, err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return httpResponse{}, fmt.Errorf("%w: statusCode %d", errBadProxyResponse, resp.StatusCode)
	}
	h := http.Header{}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		if _, ok := h[http.CanonicalHeaderKey(k)]; !ok {
			h.Set(k, v)
		}
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return httpResponse{}, fmt.Errorf("%w: isBase64Encoded body does not decode: %w", errBadProxyResponse, err)
		}
		body = b
	}
	return httpResponse{status: resp.StatusCode, header: h, body: body}, nil
}
