package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// stopLog records the order in which shutdown stops the parts.
type stopLog struct {
	mu    sync.Mutex
	steps []string
}

func (l *stopLog) add(s string) { l.mu.Lock(); l.steps = append(l.steps, s); l.mu.Unlock() }

type fakeServer struct{ log *stopLog }

func (f fakeServer) Shutdown(context.Context) error { f.log.add("http"); return nil }

type fakeBus struct {
	log     *stopLog
	pending chan struct{} // closed when the pending delivery is done
}

func (f fakeBus) WaitIdle(ctx context.Context) error {
	select {
	case <-f.pending:
		f.log.add("deliveries flushed")
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (f fakeBus) FlushStreams(context.Context) error    { f.log.add("stream published"); return nil }
func (f fakeBus) Close()                                { f.log.add("gateway closed") }
func (f fakeBus) WaitInvocations(context.Context) error { f.log.add("invocations done"); return nil }

type fakeStack struct{ log *stopLog }

func (f fakeStack) Stop() { f.log.add("stack stopped") }

// TestShutdownOrderFlushes (docs/security.md, "Data after a kill"): on Ctrl-C or SIGTERM the dev server publishes
// the events of the last committed writes (the stream), lets pending event deliveries finish (an acknowledged
// DeferredCredentialReady is applied) before it closes the gateway, and stops DynamoDB Local last, after every
// writer is done.
func TestShutdownOrderFlushes(t *testing.T) {
	log := &stopLog{}
	pending := make(chan struct{})
	go func() { close(pending) }() // the delivery in flight finishes a moment later
	shutdown(slog.New(slog.NewTextHandler(io.Discard, nil)), fakeServer{log}, fakeBus{log, pending}, fakeStack{log})
	want := "http, stream published, deliveries flushed, gateway closed, invocations done, stack stopped"
	if got := strings.Join(log.steps, ", "); got != want {
		t.Errorf("shutdown order %q, want %q", got, want)
	}
}
