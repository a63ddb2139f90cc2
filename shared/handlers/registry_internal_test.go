package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
)

// TestRegistryHandlersAnswerConcurrentInvocations: the local gateway invokes one function from many requests at
// once; every answer must stay what its invocation produced. With lambda.NewHandler the answers shared a pooled
// buffer, and concurrent invocations overwrote each other's answer while it was read.
func TestRegistryHandlersAnswerConcurrentInvocations(t *testing.T) {
	h := consoleHandler(slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	event := func(asset string) []byte {
		b, err := json.Marshal(apigw.Request{HTTPMethod: "GET", Resource: "/console/{asset}", Path: "/console/" + asset,
			PathParameters: map[string]string{"asset": asset}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	assets := []string{"app.js", "console.css"}
	want := map[string]string{}
	for _, a := range assets {
		out, err := h.Invoke(context.Background(), event(a))
		if err != nil {
			t.Fatal(err)
		}
		var resp apigw.Response
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 || resp.Body == "" {
			t.Fatalf("%s: %d %v", a, resp.StatusCode, err)
		}
		want[a] = resp.Body
	}
	var wg sync.WaitGroup
	errs := make(chan string, 400)
	for i := 0; i < 200; i++ {
		a := assets[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := h.Invoke(context.Background(), event(a))
			if err != nil {
				errs <- err.Error()
				return
			}
			snapshot := string(out) // what the gateway would decode, read while other invocations run
			var resp apigw.Response
			if err := json.Unmarshal([]byte(snapshot), &resp); err != nil || resp.Body != want[a] {
				errs <- a + ": the answer changed after Invoke returned"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestConsoleFunctionHSTS (docs/security.md, "Response headers"): the console the registry serves (make run, and
// functions/console on Lambda with the same rule) carries Strict-Transport-Security when the issuer URL is https,
// as every other function's answers do, and none for a plain http issuer.
func TestConsoleFunctionHSTS(t *testing.T) {
	page, err := json.Marshal(apigw.Request{HTTPMethod: "GET", Resource: "/console", Path: "/console"})
	if err != nil {
		t.Fatal(err)
	}
	for issuer, want := range map[string]string{"https://issuer.example": apigw.HSTSValue, "http://127.0.0.1:3000": ""} {
		d := &Deps{Config: config.Config{IssuerURL: issuer}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		out, err := Lambda(d)["ConsoleFunction"].Invoke(context.Background(), page)
		if err != nil {
			t.Fatal(err)
		}
		var resp apigw.Response
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", issuer, resp.StatusCode, err)
		}
		if got := resp.Headers["Strict-Transport-Security"]; got != want {
			t.Errorf("%s: Strict-Transport-Security %q, want %q", issuer, got, want)
		}
	}
}
