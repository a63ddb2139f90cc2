package gateway

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
)

// BenchmarkServeHTTP measures the gateway's own cost per request: routing, building and encoding the proxy event,
// and decoding and writing the proxy response, around a function that answers at once.
func BenchmarkServeHTTP(b *testing.B) {
	answer, err := proxyResponse(200, `{"credentialHistory":{"credentialExchangeId":"x","status":"offer_sent"}}`)
	if err != nil {
		b.Fatal(err)
	}
	fn := &benchFunction{answer: answer}
	g := New(testRoutes, map[string]lambda.Handler{"Items": fn}, WithLogger(quietLogger()))
	body := bytes.Repeat([]byte(`{"given_name":"Erika","family_name":"Mustermann"},`), 40)
	tests := []struct {
		name, method, target, contentType string
		body                              []byte
	}{
		{"GET with path parameter", "GET", "/items/abc-123/parts/p-9?limit=10", "", nil},
		{"POST JSON 2 KB", "POST", "/items", "application/json", body},
		{"POST binary 2 KB", "POST", "/items", "application/octet-stream", body},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := localRequest(tc.method, tc.target, bytes.NewReader(tc.body))
				if tc.contentType != "" {
					req.Header.Set("Content-Type", tc.contentType)
				}
				req.Header.Set("Authorization", "ApiKey k")
				rec := httptest.NewRecorder()
				g.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// benchFunction answers a fixed proxy response without recording anything.
type benchFunction struct{ answer []byte }

func (f *benchFunction) Invoke(context.Context, []byte) ([]byte, error) { return f.answer, nil }
