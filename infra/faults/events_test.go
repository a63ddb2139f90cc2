package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
	"github.com/sdjwt-issuer/issuer/infra/load/inproc"
)

// eventKey names one event: the exchange, the detail-type and the record version it reports. A consumer drops a
// delivery whose key it has seen (API.md, "Events").
type eventKey struct {
	id, detailType string
	version        int64
}

func (k eventKey) String() string { return fmt.Sprintf("%s %s v%d", k.id, k.detailType, k.version) }

// delivery is one event as the bus recorded it.
type delivery struct {
	key    eventKey
	detail json.RawMessage
}

// deliveries are the issuer's events on the local bus, oldest first.
func (e *env) deliveries() []delivery {
	e.t.Helper()
	var out []delivery
	for _, ev := range e.srv.Events() {
		var d struct {
			ID      string `json:"credentialExchangeId"`
			Version int64  `json:"version"`
		}
		if err := json.Unmarshal(ev.Event.Detail, &d); err != nil {
			e.t.Fatalf("event %s: detail: %v", ev.Event.DetailType, err)
		}
		out = append(out, delivery{key: eventKey{d.ID, ev.Event.DetailType, d.Version}, detail: ev.Event.Detail})
	}
	return out
}

// published counts the deliveries of each key.
func (e *env) published() map[eventKey]int {
	out := map[eventKey]int{}
	for _, d := range e.deliveries() {
		out[d.key]++
	}
	return out
}

// flushEvents waits until the events of every committed write are published (FlushStreams) and checks that no
// batch was given up on.
func (e *env) flushEvents() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.srv.FlushEvents(ctx); err != nil {
		e.t.Fatal(err)
	}
	if f := e.srv.StreamFailures(); len(f) > 0 {
		e.t.Fatalf("the stream gave up on batches: %+v", f)
	}
}

// killAfterWrite runs step with the first request of operation applied by DynamoDB and its answer lost, and every
// later one refused, as when the function dies right after its write; step must fail.
func (e *env) killAfterWrite(operation string, step func() error) {
	e.t.Helper()
	e.inj.Set(operation, Rule{Mode: LoseAnswer})
	err := step()
	e.inj.Clear()
	if err == nil {
		e.t.Fatalf("the step succeeded although its %s answer was lost", operation)
	}
}

// ok fails the test unless r has status.
func (e *env) ok(r reply, status int, what string) reply {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("%s: HTTP %d %s, want %d", what, r.status, r.raw, status)
	}
	return r
}

// revocableDefinition creates a definition whose credentials carry a status list entry.
func (e *env) revocableDefinition() string {
	e.t.Helper()
	r := e.ok(e.send(http.MethodPost, flow.AdminBase+"/credential-definition", "", true, map[string]any{
		"label": "Revocable", "credentialFormat": "dc+sd-jwt", "vct": "RevocableCredential", "expirationInDays": 365,
		"supportRevocation": true, "claims": []any{map[string]any{"path": []any{"given_name"}, "limitDisclosure": true}}}),
		http.StatusCreated, "create a revocable definition")
	def, _ := r.body["credentialDefinition"].(map[string]any)
	id, _ := def["credentialDefinitionId"].(string)
	return id
}

// TestEventsOfAKilledFunction (docs/security.md, "Lost events"): a function dies right after its write, before
// anything else it would do (the write applied, its answer lost, every later call refused), for every kind of
// write that has an event: the creation, the offer fetch, the issuance, the notification, the deferred completion
// and denial, a revocation status change while the record exists and after it was deleted. Every event the
// committed writes call for is delivered exactly once (nothing failed on the way), with the record's version;
// the writes that were refused before reaching DynamoDB have none. Before the events came from the stream (the
// functions published after their write), the same test without the revocation rows lost 18 of its 42 events:
// the event of every killed write.
func TestEventsOfAKilledFunction(t *testing.T) {
	e := startWith(t, inproc.Options{Events: true})
	e.warm()
	revocable := e.revocableDefinition()
	ctx := context.Background()
	want := map[eventKey]bool{}
	watched := map[string]bool{} // the exchanges whose every event is in want
	expect := func(id string, events ...any) {
		watched[id] = true
		for i := 0; i+1 < len(events); i += 2 {
			want[eventKey{id, events[i].(string), int64(events[i+1].(int))}] = true
		}
	}
	const rounds = 3
	for round := 0; round < rounds; round++ {
		// issue: the record is created, the answer lost
		before := e.exchangeIDs()
		e.killAfterWrite("DynamoDB.TransactWriteItems", func() error { _, _, err := e.c.CreateExchange(ctx, e.def); return err })
		for id := range e.exchangeIDs() {
			if !before[id] {
				expect(id, "credential.offer_sent", 1)
			}
		}
		// offer fetch
		id, uri, err := e.c.CreateExchange(ctx, e.def)
		if err != nil {
			t.Fatal(err)
		}
		e.killAfterWrite("DynamoDB.PutItem", func() error { _, err := e.c.FetchOffer(ctx, uri); return err })
		expect(id, "credential.offer_sent", 1, "credential.offer_received", 2)
		// credential: offer fetched (v2), token (v3, no status change), issued (v4)
		r := e.redeem()
		e.killAfterWrite("DynamoDB.TransactWriteItems", func() error {
			if cred := e.credential(r, e.nonce()); cred.Status != http.StatusOK {
				return fmt.Errorf("HTTP %d", cred.Status)
			}
			return nil
		})
		expect(r.offer.ExchangeID, "credential.offer_sent", 1, "credential.offer_received", 2, "credential.credential_issued", 4)
		// notification
		r = e.redeem()
		cred := e.credential(r, e.nonce())
		issued(t, cred)
		e.killAfterWrite("DynamoDB.PutItem", func() error { return e.c.Notify(ctx, r.token, cred.NotificationID) })
		expect(r.offer.ExchangeID, "credential.offer_sent", 1, "credential.offer_received", 2, "credential.credential_issued", 4,
			"credential.credential_accepted", 5)
		// deferred completion and denial by the admin PUT
		for _, c := range []struct {
			body  map[string]any
			event string
		}{
			{map[string]any{"credential": map[string]any{"credentialSubject": flow.DefaultSubject()}}, "credential.ready"},
			{map[string]any{"issuanceDenied": true, "issuanceDeniedReason": "not employed here"}, "credential.issuance_denied"},
		} {
			iss := e.ok(e.send(http.MethodPost, flow.AdminBase+"/credential/issue", "", true, map[string]any{
				"issuanceMode": "Deferred", "credentialDefinitionId": e.def}), http.StatusOK, "issue Deferred")
			hist, _ := iss.body["credentialHistory"].(map[string]any)
			id, _ := hist["credentialExchangeId"].(string)
			e.killAfterWrite("DynamoDB.PutItem", func() error {
				if r := e.send(http.MethodPut, flow.AdminBase+"/credential/history/"+id, "", true, c.body); r.status != http.StatusOK {
					return fmt.Errorf("HTTP %d", r.status)
				}
				return nil
			})
			expect(id, "credential.offer_sent", 1, c.event, 2)
		}
		// revocation while the record exists: record v4 (issued) -> v5, and after it was deleted: the revocation
		// item's event goes on from the record's last version (v6)
		offer, _, err := e.c.Issue(ctx, revocable)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := e.c.Token(ctx, offer.Code)
		if err != nil {
			t.Fatal(err)
		}
		issued(t, e.credential(redeemed{offer: offer, token: tok}, e.nonce()))
		revoke := func(status string) func() error {
			return func() error {
				r := e.send(http.MethodPut, flow.AdminBase+"/credential/history/"+offer.ExchangeID+"/revocation-status", "", true,
					map[string]any{"revocationStatus": status})
				if r.status != http.StatusOK {
					return fmt.Errorf("HTTP %d", r.status)
				}
				return nil
			}
		}
		e.killAfterWrite("DynamoDB.TransactWriteItems", revoke("Suspended"))
		e.ok(e.send(http.MethodDelete, flow.AdminBase+"/credential/history/"+offer.ExchangeID, "", true, nil), http.StatusNoContent, "delete")
		e.killAfterWrite("DynamoDB.TransactWriteItems", revoke("Revoked"))
		expect(offer.ExchangeID, "credential.offer_sent", 1, "credential.offer_received", 2, "credential.credential_issued", 4,
			"credential.revocation_status_changed", 5, "credential.revocation_status_changed", 6)
	}
	e.flushEvents()
	got := e.published()
	if m := missing(want, got); len(m) > 0 {
		t.Fatalf("%d of %d events the committed writes call for were not delivered: %v", len(m), len(want), m)
	}
	for k, n := range got {
		switch {
		case watched[k.id] && !want[k]:
			t.Errorf("event %s, which no committed write calls for", k)
		case want[k] && n != 1:
			t.Errorf("event %s delivered %d times, want once (nothing failed on the way)", k, n)
		}
	}
	for _, d := range e.deliveries() {
		for _, secret := range []string{"Mustermann", "credential_offer_uri", "~"} {
			if watched[d.key.id] && bytes.Contains(d.detail, []byte(secret)) {
				t.Errorf("event %s carries %q", d.key, secret)
			}
		}
	}
	t.Logf("%d events of %d killed writes, each delivered once", len(want), rounds*8)
}

// TestEventsOfAKilledPublisher (docs/security.md, "Lost events"): the publisher dies in the middle of a batch,
// after some of its events were put on the bus. The writes are committed first (by functions without the stream),
// then one publisher reads them all from the stream in large batches and is killed two ways: its second PutEvents
// is applied but the answer lost and the next two refused (it reports the first unconfirmed record failed and the
// stream retries from there), or its second PutEvents hangs past the function's timeout (a function error: the
// batch is retried bisected). Every event is delivered at least once; every repeated delivery is the same event
// (same key, same detail), so a consumer that drops seen versions sees each change once.
func TestEventsOfAKilledPublisher(t *testing.T) {
	tests := []struct {
		name    string
		rule    Rule
		timeout time.Duration
	}{
		{"answer of a PutEvents lost, then refused", Rule{Mode: LoseAnswer, Skip: 1, Times: 3}, 0},
		{"a PutEvents hangs past the function's timeout", Rule{Mode: Delay, Delay: time.Minute, Skip: 1, Times: 1}, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startWith(t, inproc.Options{})
			ctx := context.Background()
			var ids []string
			for i := 0; i < 6; i++ {
				r, err := e.c.Run(ctx, e.def)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, r.ExchangeID)
			}
			e.inj.Set("EventBridge.PutEvents", tt.rule)
			e.restart(inproc.Options{Events: true, IntegrationTimeout: tt.timeout})
			e.flushEvents()
			e.inj.Clear()
			if e.inj.Hits("EventBridge.PutEvents") < 3 {
				t.Fatalf("%d PutEvents calls: the batches were too small for the fault to hit a publisher mid-batch",
					e.inj.Hits("EventBridge.PutEvents"))
			}
			got := e.published()
			for _, id := range ids {
				for _, k := range []eventKey{{id, "credential.offer_sent", 1}, {id, "credential.offer_received", 2},
					{id, "credential.credential_issued", 4}, {id, "credential.credential_accepted", 5}} {
					if got[k] == 0 {
						t.Errorf("event %s lost", k)
					}
				}
			}
			first := map[eventKey]json.RawMessage{}
			repeated := 0
			for _, d := range e.deliveries() {
				if prev, ok := first[d.key]; ok {
					repeated++
					if !bytes.Equal(prev, d.detail) {
						t.Errorf("event %s delivered again with another detail:\n%s\n%s", d.key, prev, d.detail)
					}
					continue
				}
				first[d.key] = d.detail
			}
			if repeated == 0 {
				t.Error("no event was delivered twice: the publisher was not killed after publishing part of a batch")
			}
			t.Logf("%d events, %d repeated deliveries, %d PutEvents calls", len(first), repeated, e.inj.Hits("EventBridge.PutEvents"))
		})
	}
}

// missing lists the keys of want that got lost, sorted.
func missing(want map[eventKey]bool, got map[eventKey]int) []string {
	var out []string
	for k := range want {
		if got[k] == 0 {
			out = append(out, k.String())
		}
	}
	sort.Strings(out)
	return out
}

// exchangeIDs are the ids of every exchange record in the table.
func (e *env) exchangeIDs() map[string]bool {
	e.t.Helper()
	out := map[string]bool{}
	for _, it := range e.items() {
		if it["sk"] == "EXCHANGE" {
			out[strings.TrimPrefix(fmt.Sprint(it["pk"]), "EXCHANGE#")] = true
		}
	}
	return out
}
