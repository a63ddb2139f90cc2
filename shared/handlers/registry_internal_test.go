package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
)

// TestRegistryHandlersAnswerConcurrentInvocations: the local gateway invokes one function from many requests at
// once; every answer must stay what its invocation produced. With lambda.NewHandler the answers shared a pooled
// buffer, and concurrent invocations overwrote each other's answer while it was read.
func TestRegistryHandlersAnswerConcurrentInvocations(t *testing.T) {
	h := consoleHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
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
