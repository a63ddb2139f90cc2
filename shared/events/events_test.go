package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/sdjwt-issuer/issuer/shared/events"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
)

// fakeClient records every PutEvents call; fail decides the outcome of each call (by index) and entry.
type fakeClient struct {
	calls [][]types.PutEventsRequestEntry
	// err fails the call with this index.
	err map[int]error
	// reject rejects the entries with these indexes of the call with this index.
	reject map[int][]int
}

func (f *fakeClient) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	call := len(f.calls)
	f.calls = append(f.calls, in.Entries)
	if err := f.err[call]; err != nil {
		return nil, err
	}
	out := &eventbridge.PutEventsOutput{Entries: make([]types.PutEventsResultEntry, len(in.Entries))}
	for i := range in.Entries {
		out.Entries[i].EventId = aws.String(fmt.Sprintf("id-%d-%d", call, i))
	}
	for _, i := range f.reject[call] {
		out.Entries[i] = types.PutEventsResultEntry{ErrorCode: aws.String("ThrottlingException")}
		out.FailedEntryCount++
	}
	return out, nil
}

// sampleEvents are n creation events of records holding claims, an offer link and a credential.
func sampleEvents(n int) []exchange.Event {
	var out []exchange.Event
	for i := 0; i < n; i++ {
		rec := exchange.Record{CredentialExchangeID: fmt.Sprintf("ex-%d", i), Status: exchange.StatusOfferSent,
			CredentialOffer: "haip://?credential_offer_uri=Pq7Zk", CredentialToken: "eyJ.secret~", Version: 1,
			UpdatedAt: 1700000000}
		rec.CredentialType = []string{"T"}
		rec.SetCredentials([]exchange.CredentialPayload{{CredentialSubject: map[string]any{"given_name": "Erika"}}})
		out = append(out, exchange.ChangeEvents(nil, &rec)...)
	}
	return out
}

func TestEventBridgeEntry(t *testing.T) {
	p, err := events.NewEventBridge(&fakeClient{}, "bus", "")
	if err != nil {
		t.Fatal(err)
	}
	e := sampleEvents(1)[0]
	entry, err := p.Entry(&e)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(entry.DetailType) != "credential.offer_sent" || aws.ToString(entry.Source) != events.DefaultSource ||
		aws.ToString(entry.EventBusName) != "bus" || !aws.ToTime(entry.Time).Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("entry %+v", entry)
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(entry.Detail)), &detail); err != nil {
		t.Fatal(err)
	}
	if detail["credentialExchangeId"] != "ex-0" || detail["status"] != "offer_sent" || detail["version"] != float64(1) {
		t.Fatalf("detail %v", detail)
	}
	for _, f := range historyrecord.SeedFields() {
		if _, ok := detail[f]; !ok {
			t.Fatalf("detail lacks the history record's %s: %v", f, detail)
		}
	}
	for _, secret := range []string{"Erika", "Pq7Zk", "eyJ.secret"} {
		if strings.Contains(aws.ToString(entry.Detail), secret) {
			t.Fatalf("detail carries %q", secret)
		}
	}
}

func TestEventBridgePublishAll(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		client *fakeClient
		// calls are the entries per call; failed the indexes of the events that must report an error.
		calls  []int
		failed []int
	}{
		{"one call", 3, &fakeClient{}, []int{3}, nil},
		{"ten entries a call", 23, &fakeClient{}, []int{10, 10, 3}, nil},
		{"a call fails: its entries and every later event fail, nothing later is tried", 23,
			&fakeClient{err: map[int]error{1: errors.New("connection reset")}}, []int{10, 10},
			[]int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}},
		{"a rejected entry fails alone in its call, and the later calls are not made", 23,
			&fakeClient{reject: map[int][]int{1: {4}}}, []int{10, 10}, []int{14, 20, 21, 22}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := events.NewEventBridge(tt.client, "bus", "src")
			if err != nil {
				t.Fatal(err)
			}
			evs := sampleEvents(tt.n)
			errs := p.PublishAll(context.Background(), evs)
			var sizes []int
			for _, c := range tt.client.calls {
				sizes = append(sizes, len(c))
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tt.calls) {
				t.Fatalf("calls of %v entries, want %v", sizes, tt.calls)
			}
			var failed []int
			for i, err := range errs {
				if err != nil {
					failed = append(failed, i)
				}
			}
			if fmt.Sprint(failed) != fmt.Sprint(tt.failed) {
				t.Fatalf("failed events %v, want %v", failed, tt.failed)
			}
			// the entries went in order
			k := 0
			for _, c := range tt.client.calls {
				for _, e := range c {
					if !strings.Contains(aws.ToString(e.Detail), fmt.Sprintf(`"credentialExchangeId":"ex-%d"`, k)) {
						t.Fatalf("entry %d is not event %d", k, k)
					}
					k++
				}
			}
		})
	}
}

func TestEventBridgeBatchSize(t *testing.T) {
	// Details near 100 KB: two fit in a call of 256 KB, a third does not.
	evs := sampleEvents(5)
	for i := range evs {
		evs[i].Detail.IssuanceDeniedReason = strings.Repeat("x", 100<<10)
	}
	c := &fakeClient{}
	p, _ := events.NewEventBridge(c, "bus", "src")
	for _, err := range p.PublishAll(context.Background(), evs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int
	for _, call := range c.calls {
		sizes = append(sizes, len(call))
	}
	if fmt.Sprint(sizes) != "[2 2 1]" {
		t.Fatalf("calls of %v entries, want [2 2 1] (256 KB each at most)", sizes)
	}
}

func TestNewEventBridgeRequiresBus(t *testing.T) {
	if _, err := events.NewEventBridge(&fakeClient{}, "", "s"); err == nil {
		t.Fatal("empty bus accepted")
	}
	if _, err := events.NewEventBridge(nil, "b", "s"); err == nil {
		t.Fatal("nil client accepted")
	}
}

func TestLogPublisher(t *testing.T) {
	var buf bytes.Buffer
	p := events.NewLog(slog.New(slog.NewJSONHandler(&buf, nil)), 2)
	for _, err := range p.PublishAll(context.Background(), sampleEvents(3)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(p.Events()); got != 2 {
		t.Fatalf("kept %d events, want 2", got)
	}
	out := buf.String()
	if !strings.Contains(out, `"detail_type":"credential.offer_sent"`) || !strings.Contains(out, `"credential_exchange_id":"ex-0"`) ||
		!strings.Contains(out, `"version":1`) {
		t.Fatalf("log line %s", out)
	}
	if strings.Contains(out, "Erika") || strings.Contains(out, "Pq7Zk") {
		t.Fatalf("log carries personal data: %s", out)
	}
}
