package testkit

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWaitListening(t *testing.T) {
	exitErr := errors.New("exit status 2")
	tests := []struct {
		name      string
		listen    bool
		exited    error // delivered on the channel when non-nil
		timeout   time.Duration
		wantExit  bool
		wantCtx   bool
		wantError bool
	}{
		{name: "listening", listen: true, timeout: 5 * time.Second},
		{name: "process exited", exited: exitErr, timeout: 5 * time.Second, wantExit: true, wantError: true},
		{name: "nothing listens in time", timeout: 50 * time.Millisecond, wantCtx: true, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := MustFreeAddr(t)
			if tt.listen {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
			}
			exited := make(chan error, 1)
			if tt.exited != nil {
				exited <- tt.exited
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			err := WaitListening(ctx, addr, 20*time.Millisecond, time.Millisecond, exited)
			if (err != nil) != tt.wantError {
				t.Fatalf("WaitListening = %v, want error %v", err, tt.wantError)
			}
			var ee *ExitedError
			if got := errors.As(err, &ee); got != tt.wantExit || (got && !errors.Is(err, exitErr)) {
				t.Errorf("error %v: exited %v, want %v", err, got, tt.wantExit)
			}
			if tt.wantExit && len(exited) != 1 {
				t.Error("the exit result was not put back")
			}
			if got := errors.Is(err, context.DeadlineExceeded); got != tt.wantCtx {
				t.Errorf("error %v: deadline %v, want %v", err, got, tt.wantCtx)
			}
		})
	}
}

func TestInvokeRIE(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		fnErr     string
		wantError bool
	}{
		{"answer", http.StatusOK, "", false},
		{"function error", http.StatusOK, "Unhandled", true},
		{"RIE error", http.StatusInternalServerError, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				in, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost || r.URL.Path != "/2015-03-31/functions/function/invocations" {
					http.Error(w, "wrong request "+r.Method+" "+r.URL.Path, http.StatusNotFound)
					return
				}
				if tt.fnErr != "" {
					w.Header().Set("X-Amz-Function-Error", tt.fnErr)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write(append([]byte("echo:"), in...))
			}))
			defer srv.Close()
			body, err := InvokeRIE(context.Background(), strings.TrimPrefix(srv.URL, "http://"), []byte(`{"a":1}`))
			if (err != nil) != tt.wantError || errors.Is(err, ErrFunction) != tt.wantError {
				t.Fatalf("InvokeRIE error %v, want error %v", err, tt.wantError)
			}
			if string(body) != `echo:{"a":1}` {
				t.Errorf("body %q", body)
			}
			if err != nil && strings.Contains(err.Error(), "echo") {
				t.Errorf("the error %q carries the answer's body", err)
			}
		})
	}
}
