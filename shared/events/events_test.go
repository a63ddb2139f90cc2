package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

type fakeClient struct {
	in     *eventbridge.PutEventsInput
	failed bool
	err    error
}

func (f *fakeClient) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.in = in
	if f.err != nil {
		return nil, f.err
	}
	if f.failed {
		return &eventbridge.PutEventsOutput{FailedEntryCount: 1, Entries: []types.PutEventsResultEntry{{ErrorCode: aws.String("Throttled")}}}, nil
	}
	return &eventbridge.PutEventsOutput{}, nil
}

func sampleEvent() exchange.Event {
	rec := exchange.Record{CredentialExchangeID: "ex-1", Status: exchange.StatusOfferSent, CredentialOffer: "haip://?credential_offer_uri=Pq7Zk",
		CredentialToken: "eyJ.secret~"}
	rec.CredentialType = []string{"T"}
	rec.SetCredentials([]exchange.CredentialPayload{{CredentialSubject: map[string]any{"given_name": "Erika"}}})
	return exchange.StatusEvent(&rec, time.Unix(1700000000, 0))
}

func TestEventBridgePublish(t *testing.T) {
	tests := []struct {
		name    string
		client  *fakeClient
		wantErr bool
	}{
		{"ok", &fakeClient{}, false},
		{"entry failed", &fakeClient{failed: true}, true},
		{"call failed", &fakeClient{err: errors.New("boom")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := events.NewEventBridge(tt.client, "bus", "")
			if err != nil {
				t.Fatal(err)
			}
			err = p.Publish(context.Background(), sampleEvent())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			e := tt.client.in.Entries[0]
			if aws.ToString(e.DetailType) != "credential.offer_sent" || aws.ToString(e.Source) != events.DefaultSource ||
				aws.ToString(e.EventBusName) != "bus" {
				t.Fatalf("entry %+v", e)
			}
			var detail map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &detail); err != nil {
				t.Fatal(err)
			}
			if detail["credentialExchangeId"] != "ex-1" || detail["status"] != "offer_sent" {
				t.Fatalf("detail %v", detail)
			}
			for _, f := range historyrecord.SeedFields() {
				if _, ok := detail[f]; !ok {
					t.Fatalf("detail lacks the history record's %s: %v", f, detail)
				}
			}
			for _, secret := range []string{"Erika", "Pq7Zk", "eyJ.secret"} {
				if strings.Contains(aws.ToString(e.Detail), secret) {
					t.Fatalf("detail carries %q", secret)
				}
			}
		})
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
	for i := 0; i < 3; i++ {
		if err := p.Publish(context.Background(), sampleEvent()); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(p.Events()); got != 2 {
		t.Fatalf("kept %d events, want 2", got)
	}
	out := buf.String()
	if !strings.Contains(out, `"detail_type":"credential.offer_sent"`) || !strings.Contains(out, `"credential_exchange_id":"ex-1"`) {
		t.Fatalf("log line %s", out)
	}
	if strings.Contains(out, "Erika") || strings.Contains(out, "Pq7Zk") {
		t.Fatalf("log carries personal data: %s", out)
	}
}
