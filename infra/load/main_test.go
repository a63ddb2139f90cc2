package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
)

func TestCheckArgs(t *testing.T) {
	tests := []struct {
		name    string
		n, c    int
		max     time.Duration
		url     string
		key     string
		wantErr string
	}{
		{"loopback v4", 10, 8, time.Minute, "http://127.0.0.1:3000", "k", ""},
		{"localhost", 10, 8, time.Minute, "http://localhost:3000", "k", ""},
		{"loopback v6", 10, 8, time.Minute, "http://[::1]:3000/", "k", ""},
		{"remote host", 10, 8, time.Minute, "http://example.com", "k", "loopback"},
		{"private address", 10, 8, time.Minute, "http://10.0.0.1:3000", "k", "loopback"},
		{"path", 10, 8, time.Minute, "http://127.0.0.1:3000/api", "k", "without a path"},
		{"scheme", 10, 8, time.Minute, "ftp://127.0.0.1", "k", "without a path"},
		{"no key", 10, 8, time.Minute, "http://127.0.0.1:3000", "", "admin key"},
		{"zero flows", 0, 8, time.Minute, "http://127.0.0.1:3000", "k", "-n"},
		{"too many flows", maxFlows + 1, 8, time.Minute, "http://127.0.0.1:3000", "k", "-n"},
		{"zero concurrency", 10, 0, time.Minute, "http://127.0.0.1:3000", "k", "-c"},
		{"unbounded time", 10, 8, time.Hour, "http://127.0.0.1:3000", "k", "-max-time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkArgs(tt.n, tt.c, tt.max, tt.url, tt.key)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("checkArgs = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestRunRefusesBadFlagsWithoutRequests(t *testing.T) {
	var out, errOut bytes.Buffer
	getenv := func(string) string { return "" }
	if code := run([]string{"-url", "http://192.0.2.1:3000", "-key", "k"}, getenv, &out, &errOut); code != 2 {
		t.Errorf("exit %d, want 2; stderr %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "loopback") {
		t.Errorf("stderr %q does not say why", errOut.String())
	}
}

func TestReport(t *testing.T) {
	st := flow.Stats{Completed: 4, Failed: 1, Elapsed: 2 * time.Second,
		Latencies: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond, 40 * time.Millisecond},
		Errors:    map[string]int{"token: HTTP 503 server_error": 1}}
	var out bytes.Buffer
	Report(&out, st, 8)
	for _, want := range []string{"BENCH load_flows 4 count", "BENCH load_failed 1 count", "BENCH load_p50_ms 20.0 ms",
		"BENCH load_p99_ms 40.0 ms", "BENCH load_per_s 2.0 flows/s", "failure 1x: token: HTTP 503 server_error"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
