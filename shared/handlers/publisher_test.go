package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sdjwt-issuer/issuer/shared/events"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
)

// fakePublisher records what it accepts; failAt fails the event with that index of a call (and, as the
// EventBridge publisher does, attempts nothing after it).
type fakePublisher struct {
	calls  int
	events []exchange.Event
	failAt int
}

func (f *fakePublisher) PublishAll(_ context.Context, evs []exchange.Event) []error {
	f.calls++
	errs := make([]error, len(evs))
	for i, e := range evs {
		switch {
		case f.failAt >= 0 && i == f.failAt:
			errs[i] = errors.New("ThrottlingException")
		case f.failAt >= 0 && i > f.failAt:
			errs[i] = events.ErrNotAttempted
		default:
			f.events = append(f.events, e)
		}
	}
	return errs
}

// streamRecords reads the records of a sample stream batch of infra/events.
func streamRecords(t *testing.T, name string) []awsevents.DynamoDBEventRecord {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "infra", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev awsevents.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Records
}

// withSequence is r with another sequence number.
func withSequence(r awsevents.DynamoDBEventRecord, seq string) awsevents.DynamoDBEventRecord {
	r.Change.SequenceNumber = seq
	return r
}

func TestPublisherHandler(t *testing.T) {
	status := streamRecords(t, "publisher.json")[0]               // offer_sent -> offer_received, v2
	revoked := streamRecords(t, "publisher-revocation.json")[0]   // Suspended without the record, v5
	pointer := awsevents.DynamoDBEventRecord{EventName: "INSERT", // an item events are not derived from
		Change: awsevents.DynamoDBStreamRecord{SequenceNumber: "3", Keys: map[string]awsevents.DynamoDBAttributeValue{
			"pk": awsevents.NewStringAttribute("CODE#ab"), "sk": awsevents.NewStringAttribute("PTR")}}}
	same := withSequence(status, "4") // a write that changes no status: no event
	same.Change.OldImage = same.Change.NewImage
	broken := withSequence(status, "5")
	broken.Change.NewImage = map[string]awsevents.DynamoDBAttributeValue{"pk": status.Change.Keys["pk"],
		"data": awsevents.NewStringAttribute("{not json")}
	removed := withSequence(status, "6")
	removed.EventName, removed.Change.NewImage = "REMOVE", nil

	tests := []struct {
		name       string
		records    []awsevents.DynamoDBEventRecord
		failAt     int
		want       []string
		retryFrom  string
		wantLogged string
	}{
		{"every kind of record", []awsevents.DynamoDBEventRecord{withSequence(status, "1"), withSequence(revoked, "2"), pointer, same, removed},
			-1, []string{"credential.offer_received v2", "credential.revocation_status_changed v5"}, "", ""},
		{"a rejected event: retried from its record", []awsevents.DynamoDBEventRecord{withSequence(status, "1"), withSequence(revoked, "2"), pointer},
			1, []string{"credential.offer_received v2"}, "2", "ThrottlingException"},
		{"an undecodable item: retried from it, nothing after it published", []awsevents.DynamoDBEventRecord{withSequence(status, "1"), broken, withSequence(revoked, "7")},
			-1, []string{"credential.offer_received v2"}, "5", "decode the change of an exchange record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{failAt: tt.failAt}
			var logs bytes.Buffer
			h := handlers.NewPublisher(pub, slog.New(slog.NewJSONHandler(&logs, nil)))
			resp, err := h.Handle(context.Background(), awsevents.DynamoDBEvent{Records: tt.records})
			if err != nil {
				t.Fatalf("function error %v: a record's failure must be a partial batch response", err)
			}
			var got []string
			for _, e := range pub.events {
				got = append(got, fmt.Sprintf("%s v%d", e.DetailType, e.Detail.Version))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("published %v, want %v", got, tt.want)
			}
			var retry []string
			for _, f := range resp.BatchItemFailures {
				retry = append(retry, f.ItemIdentifier)
			}
			if want := []string{tt.retryFrom}; tt.retryFrom == "" && len(retry) != 0 || tt.retryFrom != "" && fmt.Sprint(retry) != fmt.Sprint(want) {
				t.Errorf("batch item failures %v, want %q", retry, tt.retryFrom)
			}
			if !strings.Contains(logs.String(), tt.wantLogged) {
				t.Errorf("log lacks %q: %s", tt.wantLogged, logs.String())
			}
			for _, secret := range []string{"Mustermann", "Erika", "Qm8x3vT7yZ2pL6kR9sW1nB4c"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("log carries %q", secret)
				}
				for _, e := range pub.events {
					if b, _ := json.Marshal(e.Detail); strings.Contains(string(b), secret) {
						t.Errorf("event %s carries %q", e.DetailType, secret)
					}
				}
			}
		})
	}
}

// TestPublisherReadsEveryAttributeType: the images Lambda delivers may hold any DynamoDB type; the conversion to
// the store's attribute values keeps them all (an item with a set or binary attribute must not fail the batch).
func TestPublisherReadsEveryAttributeType(t *testing.T) {
	rec := streamRecords(t, "publisher.json")[0]
	for _, img := range []map[string]awsevents.DynamoDBAttributeValue{rec.Change.OldImage, rec.Change.NewImage} {
		img["extraB"] = awsevents.NewBinaryAttribute([]byte{1, 2})
		img["extraBS"] = awsevents.NewBinarySetAttribute([][]byte{{1}, {2}})
		img["extraSS"] = awsevents.NewStringSetAttribute([]string{"a", "b"})
		img["extraNS"] = awsevents.NewNumberSetAttribute([]string{"1", "2"})
		img["extraNULL"] = awsevents.NewNullAttribute()
		img["extraM"] = awsevents.NewMapAttribute(map[string]awsevents.DynamoDBAttributeValue{
			"l": awsevents.NewListAttribute([]awsevents.DynamoDBAttributeValue{awsevents.NewBooleanAttribute(true)})})
		img["extraEmptyM"] = awsevents.NewMapAttribute(map[string]awsevents.DynamoDBAttributeValue{})
	}
	pub := &fakePublisher{failAt: -1}
	resp, err := handlers.NewPublisher(pub, slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))).Handle(context.Background(),
		awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{rec}})
	if err != nil || len(resp.BatchItemFailures) != 0 || len(pub.events) != 1 {
		t.Fatalf("err %v, failures %v, %d events", err, resp.BatchItemFailures, len(pub.events))
	}
}
