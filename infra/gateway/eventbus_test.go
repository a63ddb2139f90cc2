package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/sdjwt-issuer/issuer/infra/template"
)

// deferredRules is the template's rule, as template.EventRules reads it.
var deferredRules = []template.EventRule{{FunctionLogicalID: "DeferredIssueFunction", EventName: "DeferredCompletionEvent",
	EventBus: "${EventBus}", Pattern: map[string]any{"detail-type": []any{"DeferredCredentialReady", "DeferredCredentialDenied"}}}}

// eventBridgeClient is the real SDK client pointed at the gateway, as AWS_ENDPOINT_URL_EVENTBRIDGE does it.
func eventBridgeClient(url string) *eventbridge.Client {
	return eventbridge.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("local", busKey, ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
	})
}

func entry(detailType, detail string) ebtypes.PutEventsRequestEntry {
	return ebtypes.PutEventsRequestEntry{Source: aws.String("sdjwt-issuer"), DetailType: aws.String(detailType),
		Detail: aws.String(detail), EventBusName: aws.String("local")}
}

func waitIdle(t *testing.T, g *Gateway) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPutEventsDelivery(t *testing.T) {
	tests := []struct {
		name          string
		entries       []ebtypes.PutEventsRequestEntry
		failFirst     int32 // invocations that fail before one succeeds
		wantDelivered []string
		wantAttempts  int
		wantRecorded  int
	}{
		{name: "ready is delivered", entries: []ebtypes.PutEventsRequestEntry{entry("DeferredCredentialReady", `{"credentialExchangeId":"x1"}`)},
			wantDelivered: []string{"DeferredCredentialReady"}, wantAttempts: 1, wantRecorded: 1},
		{name: "denied is delivered", entries: []ebtypes.PutEventsRequestEntry{entry("DeferredCredentialDenied", `{"credentialExchangeId":"x1","issuanceDenied":true}`)},
			wantDelivered: []string{"DeferredCredentialDenied"}, wantAttempts: 1, wantRecorded: 1},
		{name: "status events are only recorded", entries: []ebtypes.PutEventsRequestEntry{entry("credential.offer_sent", `{"credentialExchangeId":"x1"}`)},
			wantRecorded: 1},
		{name: "batch delivers the matching ones", entries: []ebtypes.PutEventsRequestEntry{
			entry("credential.offer_sent", `{}`), entry("DeferredCredentialReady", `{"credentialExchangeId":"a"}`),
			entry("DeferredCredentialDenied", `{"credentialExchangeId":"b"}`)},
			wantDelivered: []string{"DeferredCredentialReady", "DeferredCredentialDenied"}, wantAttempts: 1, wantRecorded: 3},
		{name: "failure is retried", entries: []ebtypes.PutEventsRequestEntry{entry("DeferredCredentialReady", `{"credentialExchangeId":"x1"}`)},
			failFirst: 2, wantDelivered: []string{"DeferredCredentialReady"}, wantAttempts: 3, wantRecorded: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			fn := &fakeFunction{respond: func(context.Context, []byte) ([]byte, error) {
				if calls.Add(1) <= tc.failFirst {
					return nil, errors.New("store unavailable")
				}
				return []byte("null"), nil
			}}
			g := New(nil, map[string]lambda.Handler{"DeferredIssueFunction": fn}, WithLogger(quietLogger()), WithAdminKey(busKey),
				WithEventRules(deferredRules), WithDeliveryRetry(3, time.Millisecond), WithAccount("123456789012", "eu-west-1"))
			srv := httptest.NewServer(g)
			defer srv.Close()
			defer g.Close()
			out, err := eventBridgeClient(srv.URL).PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: tc.entries})
			if err != nil {
				t.Fatal(err)
			}
			if out.FailedEntryCount != 0 || len(out.Entries) != len(tc.entries) {
				t.Fatalf("FailedEntryCount %d, %d entries", out.FailedEntryCount, len(out.Entries))
			}
			ids := map[string]bool{}
			for _, e := range out.Entries {
				if aws.ToString(e.EventId) == "" || ids[aws.ToString(e.EventId)] {
					t.Fatalf("event ids %v", out.Entries)
				}
				ids[aws.ToString(e.EventId)] = true
			}
			waitIdle(t, g)
			recorded := g.Events()
			if len(recorded) != tc.wantRecorded {
				t.Fatalf("%d events recorded, want %d", len(recorded), tc.wantRecorded)
			}
			var delivered []string
			fn.mu.Lock()
			for _, p := range fn.calls {
				var ev events.CloudWatchEvent
				if err := json.Unmarshal(p, &ev); err != nil {
					t.Fatalf("delivery is not an EventBridge event: %v", err)
				}
				if ev.Version != "0" || !ids[ev.ID] || ev.Source != "sdjwt-issuer" || ev.AccountID != "123456789012" ||
					ev.Region != "eu-west-1" || ev.Time.IsZero() || ev.Resources == nil {
					t.Errorf("event %+v", ev)
				}
				var detail map[string]any
				if err := json.Unmarshal(ev.Detail, &detail); err != nil {
					t.Errorf("detail %s: %v", ev.Detail, err)
				}
				if len(delivered) == 0 || delivered[len(delivered)-1] != ev.DetailType {
					delivered = append(delivered, ev.DetailType)
				}
			}
			fn.mu.Unlock()
			if !sameElements(delivered, tc.wantDelivered) {
				t.Errorf("delivered %v, want %v", delivered, tc.wantDelivered)
			}
			for _, r := range recorded {
				if r.EventBusName != "local" || !ids[r.Event.ID] {
					t.Errorf("recorded %+v", r)
				}
				for _, d := range r.Deliveries {
					if !d.Delivered || !d.Done || d.Attempts != tc.wantAttempts || d.Function != "DeferredIssueFunction" ||
						d.Rule != "DeferredCompletionEvent" || d.LastError != "" {
						t.Errorf("delivery %+v", d)
					}
				}
			}
		})
	}
}

func sameElements(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestPutEventsGivesUpAfterRetries(t *testing.T) {
	fn := &fakeFunction{respond: func(context.Context, []byte) ([]byte, error) { return nil, errors.New("always fails") }}
	g := New(nil, map[string]lambda.Handler{"DeferredIssueFunction": fn}, WithLogger(quietLogger()), WithAdminKey(busKey),
		WithEventRules(deferredRules), WithDeliveryRetry(4, time.Millisecond))
	defer g.Close()
	srv := httptest.NewServer(g)
	defer srv.Close()
	_, err := eventBridgeClient(srv.URL).PutEvents(context.Background(), &eventbridge.PutEventsInput{
		Entries: []ebtypes.PutEventsRequestEntry{entry("DeferredCredentialReady", `{"credentialExchangeId":"x"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, g)
	if fn.count() != 4 {
		t.Errorf("%d attempts, want 4", fn.count())
	}
	d := g.Events()[0].Deliveries[0]
	if d.Delivered || !d.Done || d.Attempts != 4 || !strings.Contains(d.LastError, "always fails") {
		t.Errorf("delivery %+v", d)
	}
}

func TestPutEventsValidation(t *testing.T) {
	g := New(nil, nil, WithLogger(quietLogger()), WithEventRules(deferredRules), WithAdminKey(busKey))
	defer g.Close()
	srv := httptest.NewServer(g)
	defer srv.Close()
	client := eventBridgeClient(srv.URL)
	t.Run("entry errors", func(t *testing.T) {
		out, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
			{Source: aws.String("s"), DetailType: aws.String("t")},
			entry("t", `not json`),
			entry("t", `["an array"]`),
			{DetailType: aws.String("t"), Detail: aws.String("{}")},
			entry("t", `{}`),
		}})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"InvalidArgument", "MalformedDetail", "MalformedDetail", "InvalidArgument", ""}
		if out.FailedEntryCount != 4 || len(out.Entries) != len(want) {
			t.Fatalf("FailedEntryCount %d, entries %d", out.FailedEntryCount, len(out.Entries))
		}
		for i, e := range out.Entries {
			if aws.ToString(e.ErrorCode) != want[i] || (want[i] == "") != (aws.ToString(e.EventId) != "") {
				t.Errorf("entry %d: %q %q", i, aws.ToString(e.ErrorCode), aws.ToString(e.EventId))
			}
		}
	})
	tests := []struct {
		name     string
		entries  int
		size     int
		wantCode string
	}{
		{"eleven entries", 11, 2, "ValidationException"},
		{"over 256 KiB", 1, 300 << 10, "ValidationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var entries []ebtypes.PutEventsRequestEntry
			for range tc.entries {
				entries = append(entries, entry("t", `{"x":"`+strings.Repeat("a", tc.size)+`"}`))
			}
			_, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.wantCode {
				t.Errorf("error %v, want %s", err, tc.wantCode)
			}
		})
	}
	t.Run("no entries (raw, the SDK refuses it itself)", func(t *testing.T) {
		req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(`{"Entries":[]}`))
		req.Header.Set("X-Amz-Target", PutEventsTarget)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("Authorization", "ApiKey "+busKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 400 || body["__type"] != "ValidationException" {
			t.Errorf("%d %v %v", resp.StatusCode, body, err)
		}
	})
	t.Run("other operations", func(t *testing.T) {
		_, err := client.ListRules(context.Background(), &eventbridge.ListRulesInput{})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnknownOperationException" {
			t.Errorf("error %v", err)
		}
	})
}

func TestRecordedEventsAreBoundedAndListed(t *testing.T) {
	g := New(nil, nil, WithLogger(quietLogger()), WithMaxEvents(3), WithAdminKey(busKey))
	defer g.Close()
	srv := httptest.NewServer(g)
	defer srv.Close()
	client := eventBridgeClient(srv.URL)
	for _, dt := range []string{"a", "b", "c", "d", "e"} {
		if _, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{
			Entries: []ebtypes.PutEventsRequestEntry{entry(dt, `{"n":1}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, e := range g.Events() {
		got = append(got, e.Event.DetailType)
	}
	if strings.Join(got, ",") != "c,d,e" {
		t.Errorf("recorded %v, want the newest three", got)
	}
	get, _ := http.NewRequest("GET", srv.URL+EventsPath, nil)
	get.Header.Set("Authorization", "ApiKey "+busKey)
	resp, err := http.DefaultClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var listed struct {
		Events []RecordedEvent `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&listed); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", EventsPath, resp.StatusCode, err)
	}
	if len(listed.Events) != 3 || listed.Events[2].Event.DetailType != "e" || string(listed.Events[2].Event.Detail) != `{"n":1}` {
		t.Errorf("listed %+v", listed.Events)
	}
	if got := status(t, "POST", srv.URL+EventsPath, "ApiKey "+busKey, ""); got != http.StatusMethodNotAllowed {
		t.Errorf("POST %s: %d", EventsPath, got)
	}
}

func TestCloseStopsRetries(t *testing.T) {
	attempted := make(chan struct{}, 5)
	fn := &fakeFunction{respond: func(context.Context, []byte) ([]byte, error) {
		attempted <- struct{}{}
		return nil, errors.New("fails")
	}}
	g := New(nil, map[string]lambda.Handler{"DeferredIssueFunction": fn}, WithLogger(quietLogger()), WithAdminKey(busKey),
		WithEventRules(deferredRules), WithDeliveryRetry(5, time.Hour))
	srv := httptest.NewServer(g)
	defer srv.Close()
	if _, err := eventBridgeClient(srv.URL).PutEvents(context.Background(), &eventbridge.PutEventsInput{
		Entries: []ebtypes.PutEventsRequestEntry{entry("DeferredCredentialReady", `{}`)}}); err != nil {
		t.Fatal(err)
	}
	// Close while the delivery waits for its first retry: the first attempt runs asynchronously, so wait until the
	// function is called (a Close before it rightly makes no attempt at all).
	select {
	case <-attempted:
	case <-time.After(30 * time.Second):
		t.Fatal("the first delivery attempt did not come")
	}
	done := make(chan struct{})
	go func() { g.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the retry loop")
	}
	if n := fn.count(); n != 1 {
		t.Errorf("%d attempts before close, want 1", n)
	}
	d := g.Events()[0].Deliveries[0]
	if d.Delivered || !d.Done {
		t.Errorf("delivery %+v", d)
	}
}
