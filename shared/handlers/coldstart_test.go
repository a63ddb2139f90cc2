package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// fakeSSM answers GetParameter like SSM's JSON 1.1 API, recording the requested names.
func fakeSSM(t *testing.T, status int, body string) (url string, names *[]string) {
	t.Helper()
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if target := r.Header.Get("X-Amz-Target"); target != "AmazonSSM.GetParameter" {
			t.Errorf("X-Amz-Target %q, want AmazonSSM.GetParameter", target)
		}
		var in struct{ Name string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("request body: %v", err)
		}
		seen = append(seen, in.Name)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &seen
}

// coldStartEnv is a function's environment as template.yaml sets it without an IssuerUrl, SSM served by url.
func coldStartEnv(t *testing.T, ssmURL string) {
	t.Helper()
	for k, v := range map[string]string{
		"ISSUER_URL": "", "ISSUER_URL_PARAMETER": "/sdjwt-issuer/issuer-url", "TABLE_NAME": "t",
		"KMS_KEY_ID": "alias/sdjwt-issuer", "EVENT_BUS_NAME": "", "ADMIN_API_KEY_HASHES": "",
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_SESSION_TOKEN": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_PROFILE": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SSM": ssmURL, "AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
}

// TestColdStartReadsIssuerURLFromSSM: without ISSUER_URL, the cold start reads the issuer URL (the API's stage
// URL, with its path) from the SSM parameter the template names, with one GetParameter call.
func TestColdStartReadsIssuerURLFromSSM(t *testing.T) {
	const stageURL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
	url, names := fakeSSM(t, http.StatusOK,
		`{"Parameter":{"Name":"/sdjwt-issuer/issuer-url","Type":"String","Value":"`+stageURL+`","Version":1}}`)
	coldStartEnv(t, url)
	deps, err := ColdStart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if deps.Config.IssuerURL != stageURL || deps.Config.IssuerPath() != "/prod" {
		t.Errorf("issuer URL %q (path %q), want %q", deps.Config.IssuerURL, deps.Config.IssuerPath(), stageURL)
	}
	if strings.Join(*names, ",") != "/sdjwt-issuer/issuer-url" {
		t.Errorf("GetParameter calls for %v, want one for /sdjwt-issuer/issuer-url", *names)
	}
}

// TestColdStartIssuerURLFromSSMFailures: a parameter that cannot be read, or whose value is not an issuer URL,
// stops the cold start with an error naming the parameter and the fix.
func TestColdStartIssuerURLFromSSMFailures(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		mentions []string
	}{
		{"not found", http.StatusBadRequest, `{"__type":"ParameterNotFound","message":"not found"}`,
			[]string{"/sdjwt-issuer/issuer-url", "ssm:GetParameter", "ParameterNotFound"}},
		{"trailing slash", http.StatusOK, `{"Parameter":{"Name":"/sdjwt-issuer/issuer-url","Value":"https://x.example.com/prod/"}}`,
			[]string{"/sdjwt-issuer/issuer-url", "ISSUER_URL_PARAMETER", "trailing slash"}},
		{"no value", http.StatusOK, `{"Parameter":{"Name":"/sdjwt-issuer/issuer-url"}}`,
			[]string{"/sdjwt-issuer/issuer-url", "no value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, _ := fakeSSM(t, tt.status, tt.body)
			coldStartEnv(t, url)
			_, err := ColdStart(context.Background())
			if err == nil {
				t.Fatal("ColdStart succeeded")
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}
