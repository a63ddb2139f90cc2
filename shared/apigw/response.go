package apigw

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// Response is the API Gateway proxy response a handler returns.
type Response = events.APIGatewayProxyResponse

// Request is the API Gateway proxy request (REST API, payload v1) a handler receives.
type Request = events.APIGatewayProxyRequest

// JSON answers status with v encoded as JSON. Extra headers are given as name, value pairs.
func JSON(status int, v any, headers ...string) (Response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return Response{}, err
	}
	r := Response{StatusCode: status, Body: string(body), Headers: map[string]string{"Content-Type": "application/json"}}
	addHeaders(r.Headers, headers)
	return r, nil
}

// Raw answers status with a text body of the given content type.
func Raw(status int, contentType, body string, headers ...string) Response {
	r := Response{StatusCode: status, Body: body, Headers: map[string]string{"Content-Type": contentType}}
	addHeaders(r.Headers, headers)
	return r
}

// Binary answers status with a binary body (base64 in the proxy response, as API Gateway expects).
func Binary(status int, contentType string, body []byte, headers ...string) Response {
	r := Response{StatusCode: status, Body: base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
		Headers: map[string]string{"Content-Type": contentType}}
	addHeaders(r.Headers, headers)
	return r
}

// NoContent answers 204.
func NoContent(headers ...string) Response {
	r := Response{StatusCode: http.StatusNoContent, Headers: map[string]string{}}
	addHeaders(r.Headers, headers)
	return r
}

func addHeaders(dst map[string]string, kv []string) {
	for i := 0; i+1 < len(kv); i += 2 {
		dst[kv[i]] = kv[i+1]
	}
}

func errorResponse(style ErrorStyle, e *Error) Response {
	var body any
	if style == OAuthErrors {
		code := e.Code
		if code == "" {
			code = "invalid_request"
		}
		body = struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description,omitempty"`
		}{code, e.Description}
	} else {
		body = struct {
			ErrorCode        int    `json:"errorCode"`
			ErrorDescription string `json:"errorDescription"`
		}{e.Status, e.Description}
	}
	b, _ := json.Marshal(body)
	r := Response{StatusCode: e.Status, Body: string(b), Headers: map[string]string{
		"Content-Type": "application/json", "Cache-Control": "no-store"}}
	for k, v := range e.Headers {
		r.Headers[k] = v
	}
	return r
}
