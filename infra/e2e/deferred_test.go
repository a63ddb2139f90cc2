package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/infra/gateway"
	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/template"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/platform"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// deferredIssuer is the issuer over HTTP with the local EventBridge of the same gateway: template.yaml's rules
// deliver DeferredCredentialReady/Denied to the DeferredIssueFunction, and the gateway plays the template's
// stream mapping, so the publisher puts the events of the issuer's committed writes on that bus too and a test
// reads every event back.
type deferredIssuer struct {
	*issuer
	gw  *gateway.Gateway
	ebc *eventbridge.Client
}

const deferredBus = "e2e-bus"

func startDeferredIssuer(t *testing.T) *deferredIssuer {
	t.Helper()
	srv, cfg, awsCfg := newLocalIssuer(t)
	issuerURL := cfg.IssuerURL
	ebc := eventbridge.NewFromConfig(awsCfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(issuerURL) })
	clients := platform.FromAWSConfig(awsCfg)
	clients.EventBridge = ebc
	cfg.EventBusName = deferredBus
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	deps, err := handlers.NewDeps(context.Background(), cfg, clients, handlers.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	root := testkit.MustRepoRoot(t)
	routes, err := template.Routes(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := template.EventRules(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if rules, err = template.ResolveParameters(rules, map[string]string{"CompletionEventSource": "com.example.hr"}); err != nil {
		t.Fatal(err)
	}
	sources, err := template.StreamSources(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The local bus needs the admin key: here the stack's secret access key, which every client of the test signs with.
	creds, err := awsCfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(routes, handlers.Lambda(deps), gateway.WithEventRules(rules), gateway.WithLogger(quiet),
		gateway.WithDeliveryRetry(3, 50*time.Millisecond), gateway.WithAdminKey(creds.SecretAccessKey),
		gateway.WithTableStream(awsCfg, cfg.TableName, sources))
	if err := gw.Err(); err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = gw
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(gw.Close)
	return &deferredIssuer{issuer: &issuer{t: t, url: issuerURL, hc: &http.Client{Timeout: 30 * time.Second}}, gw: gw, ebc: ebc}
}

// putEvent puts one event on the local bus with the real EventBridge client, as an organisation's backend would,
// and waits until its deliveries are done.
func (d *deferredIssuer) putEvent(detailType string, detail map[string]any) {
	d.t.Helper()
	b, err := json.Marshal(detail)
	if err != nil {
		d.t.Fatal(err)
	}
	out, err := d.ebc.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(deferredBus), Source: aws.String("com.example.hr"), DetailType: aws.String(detailType),
		Detail: aws.String(string(b))}}})
	if err != nil || out.FailedEntryCount != 0 {
		d.t.Fatalf("PutEvents: %v (%d failed)", err, out.FailedEntryCount)
	}
	d.waitEvents()
}

// waitEvents waits until the events of every write committed so far are published (the stream) and every event
// on the bus is delivered to its rules.
func (d *deferredIssuer) waitEvents() {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.gw.FlushStreams(ctx); err != nil {
		d.t.Fatal(err)
	}
	if err := d.gw.WaitIdle(ctx); err != nil {
		d.t.Fatal(err)
	}
}

// deliveries returns the deliveries to the DeferredIssueFunction of the events of detailType naming id.
func (d *deferredIssuer) deliveries(detailType, id string) []gateway.Delivery {
	var out []gateway.Delivery
	for _, e := range d.gw.Events() {
		if e.Event.DetailType != detailType || !strings.Contains(string(e.Event.Detail), id) {
			continue
		}
		for _, dl := range e.Deliveries {
			if dl.Function == "DeferredIssueFunction" {
				out = append(out, dl)
			}
		}
	}
	return out
}

// published counts the issuer's own events of detailType (credential.*) for the exchange id.
func (d *deferredIssuer) published(detailType, id string) int {
	n := 0
	for _, e := range d.gw.Events() {
		if e.Event.Source == "e2e" && e.Event.DetailType == detailType && strings.Contains(string(e.Event.Detail), `"credentialExchangeId":"`+id+`"`) {
			n++
		}
	}
	return n
}

// dfrWallet is one holder wallet working through a Deferred exchange.
type dfrWallet struct {
	is     *issuer
	defID  string
	access string
	holder holder
	txn    string
}

// redeem fetches the offer and redeems its pre-authorized code.
func (w *dfrWallet) redeem(t *testing.T, link string) {
	t.Helper()
	offer := w.is.do(http.MethodGet, offerURI(t, link), nil)
	if offer.status != http.StatusOK {
		t.Fatalf("offer %d %s", offer.status, offer.raw)
	}
	code := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)["pre-authorized_code"].(string)
	tok := w.is.postForm("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"},
		"pre-authorized_code": {code}})
	if tok.status != http.StatusOK {
		t.Fatalf("token %d %s", tok.status, tok.raw)
	}
	w.access = tok.str("access_token")
	w.holder = newHolder(t)
}

// request sends the credential request with a proof of the wallet's key.
func (w *dfrWallet) request(t *testing.T) *response {
	t.Helper()
	nonce := w.is.do(http.MethodPost, "/nonce", nil).str("c_nonce")
	r := w.is.postJSON("/credential", w.access, map[string]any{"credential_configuration_id": w.defID,
		"proofs": map[string]any{"jwt": []string{w.holder.proof(t, w.is.url, nonce)}}})
	if r.status == http.StatusAccepted {
		w.txn = r.str("transaction_id")
	}
	return r
}

func (w *dfrWallet) poll() *response {
	return w.is.postJSON("/deferred-credential", w.access, map[string]any{"transaction_id": w.txn})
}

// pending brings the wallet to the deferred wait: credential request answered 202, one poll answered 202.
func (w *dfrWallet) pending(t *testing.T, link string) {
	t.Helper()
	w.redeem(t, link)
	if r := w.request(t); r.status != http.StatusAccepted || w.txn == "" {
		t.Fatalf("credential request %d %s, want 202", r.status, r.raw)
	}
	if r := w.poll(); r.status != http.StatusAccepted || r.str("transaction_id") != w.txn || r.json["interval"] == nil {
		t.Fatalf("poll %d %s, want 202", r.status, r.raw)
	}
}

// verifyCredentials checks every credential of an answer: signed by the issuer, bound to the wallet's proof key,
// carrying the given claims.
func (w *dfrWallet) verifyCredentials(t *testing.T, r *response, subject map[string]any) {
	t.Helper()
	creds, _ := r.json["credentials"].([]any)
	if len(creds) == 0 {
		t.Fatalf("no credentials in %s", r.raw)
	}
	jwks := jwksOf(t, w.is)
	want, _ := keys.Thumbprint(w.holder.pub)
	for i, c := range creds {
		raw, _ := c.(map[string]any)["credential"].(string)
		v, err := sdjwt.Verify(raw, sdjwt.WithIssuerKeySet(jwks))
		if err != nil {
			t.Fatalf("credential %d: %v", i, err)
		}
		for k, val := range subject {
			got, _ := json.Marshal(v.Claims[k])
			exp, _ := json.Marshal(val)
			if string(got) != string(exp) {
				t.Errorf("credential %d claim %s = %s, want %s", i, k, got, exp)
			}
		}
		cnf, _ := json.Marshal(v.Claims["cnf"].(map[string]any)["jwk"])
		k, err := jwk.ParseKey(cnf)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := keys.Thumbprint(k); got != want {
			t.Errorf("credential %d is not bound to the key the wallet proved", i)
		}
	}
}

func (d *deferredIssuer) deferredOffer(defID string) (string, string) {
	d.t.Helper()
	return d.issue(map[string]any{"issuanceMode": "Deferred", "credentialDefinitionId": defID})
}

// TestDeferredCompletion: a wallet waits on a Deferred exchange; the organisation completes it by the admin
// PUT or by an EventBridge event (each sent twice, as retries and at-least-once delivery do); the wallet's next
// poll receives the credential bound to its key, the exchange is credential_acked, and credential.ready was
// published exactly once.
func TestDeferredCompletion(t *testing.T) {
	d := startDeferredIssuer(t)
	defID := d.definition()
	tests := []struct {
		name     string
		complete func(t *testing.T, id string)
	}{
		{name: "admin PUT", complete: func(t *testing.T, id string) {
			first := d.admin(http.MethodPut, "/credential/history/"+id, map[string]any{"credential": map[string]any{"credentialSubject": erika}})
			again := d.admin(http.MethodPut, "/credential/history/"+id, map[string]any{"credential": map[string]any{"credentialSubject": erika}})
			for _, r := range []*response{first, again} {
				h, _ := r.json["credentialHistory"].(map[string]any)
				if r.status != http.StatusOK || h["credentialStatus"] != "ready" || h["status"] != "offer_received" {
					t.Fatalf("PUT %d %s", r.status, r.raw)
				}
			}
			if string(first.raw) != string(again.raw) {
				t.Errorf("the repeated PUT answered a different record:\n%s\n%s", first.raw, again.raw)
			}
		}},
		{name: "EventBridge event", complete: func(t *testing.T, id string) {
			detail := map[string]any{"credentialExchangeId": id, "credential": map[string]any{"credentialSubject": erika}}
			d.putEvent("DeferredCredentialReady", detail)
			d.putEvent("DeferredCredentialReady", detail) // the same event again: at-least-once delivery
			dl := d.deliveries("DeferredCredentialReady", id)
			if len(dl) != 2 || !dl[0].Delivered || !dl[1].Delivered || dl[0].Attempts != 1 || dl[1].Attempts != 1 {
				t.Fatalf("deliveries %+v, want two delivered at the first attempt", dl)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, link := d.deferredOffer(defID)
			w := &dfrWallet{is: d.issuer, defID: defID}
			w.pending(t, link)
			tc.complete(t, id)
			if h := d.history(id); h["credentialStatus"] != "ready" || h["status"] != "offer_received" {
				t.Fatalf("record after completion: %v/%v", h["status"], h["credentialStatus"])
			}
			ready := w.poll()
			if ready.status != http.StatusOK {
				t.Fatalf("poll after completion %d %s", ready.status, ready.raw)
			}
			w.verifyCredentials(t, ready, map[string]any{"given_name": "Erika", "family_name": "Mustermann"})
			if s := d.history(id)["status"]; s != "credential_acked" {
				t.Errorf("status %v, want credential_acked", s)
			}
			// the answer lost: the same token and transaction id get the recorded answer again, byte for byte
			if again := w.poll(); again.status != http.StatusOK || string(again.raw) != string(ready.raw) {
				t.Errorf("second pick-up: HTTP %d %q, want 200 with the first answer again", again.status, again.str("error"))
			}
			d.waitEvents()
			if n := d.published("credential.ready", id); n != 1 {
				t.Errorf("%d credential.ready events, want 1", n)
			}
			if n := d.published("credential.credential_acked", id); n != 1 {
				t.Errorf("%d credential.credential_acked events, want 1", n)
			}
		})
	}
}

// TestDeferredDenial: a denial by PUT or by event makes the wallet's poll credential_request_denied.
func TestDeferredDenial(t *testing.T) {
	d := startDeferredIssuer(t)
	defID := d.definition()
	const reason = "Employment record could not be confirmed"
	tests := []struct {
		name string
		deny func(t *testing.T, id string)
	}{
		{name: "admin PUT", deny: func(t *testing.T, id string) {
			for i := 0; i < 2; i++ {
				r := d.admin(http.MethodPut, "/credential/history/"+id, map[string]any{"issuanceDenied": true, "issuanceDeniedReason": reason})
				if r.status != http.StatusOK {
					t.Fatalf("PUT %d: %d %s", i+1, r.status, r.raw)
				}
			}
		}},
		{name: "EventBridge event", deny: func(t *testing.T, id string) {
			d.putEvent("DeferredCredentialDenied", map[string]any{"credentialExchangeId": id, "issuanceDenied": true,
				"issuanceDeniedReason": reason})
			d.putEvent("DeferredCredentialDenied", map[string]any{"credentialExchangeId": id, "issuanceDenied": true,
				"issuanceDeniedReason": reason})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, link := d.deferredOffer(defID)
			w := &dfrWallet{is: d.issuer, defID: defID}
			w.pending(t, link)
			tc.deny(t, id)
			h := d.history(id)
			if h["status"] != "issuance_denied" || h["issuanceDeniedReason"] != reason {
				t.Fatalf("record %v %v", h["status"], h["issuanceDeniedReason"])
			}
			if r := w.poll(); r.status != http.StatusBadRequest || r.str("error") != "credential_request_denied" {
				t.Fatalf("poll after denial %d %s", r.status, r.raw)
			}
			// A completion after the denial is refused, by PUT (409) and by event (acknowledged, not retried).
			if r := d.admin(http.MethodPut, "/credential/history/"+id, map[string]any{"credential": map[string]any{"credentialSubject": erika}}); r.status != http.StatusConflict {
				t.Errorf("completion after denial %d %s", r.status, r.raw)
			}
			d.putEvent("DeferredCredentialReady", map[string]any{"credentialExchangeId": id, "credential": map[string]any{"credentialSubject": erika}})
			if dl := d.deliveries("DeferredCredentialReady", id); len(dl) != 1 || !dl[0].Delivered || dl[0].Attempts != 1 {
				t.Errorf("refused event deliveries %+v, want acknowledged without retry", dl)
			}
			d.waitEvents()
			if n := d.published("credential.issuance_denied", id); n != 1 {
				t.Errorf("%d credential.issuance_denied events, want 1", n)
			}
		})
	}
}

// TestDeferredCompletedBeforeWalletAsks: claims that arrive before the wallet's credential request are issued
// by the credential endpoint at once.
func TestDeferredCompletedBeforeWalletAsks(t *testing.T) {
	d := startDeferredIssuer(t)
	defID := d.definition()
	id, link := d.deferredOffer(defID)
	d.putEvent("DeferredCredentialReady", map[string]any{"credentialExchangeId": id,
		"credentials": []any{map[string]any{"credentialSubject": erika}}})
	w := &dfrWallet{is: d.issuer, defID: defID}
	w.redeem(t, link)
	r := w.request(t)
	if r.status != http.StatusOK || r.str("notification_id") == "" || w.txn != "" {
		t.Fatalf("credential request %d %s, want the credential at once", r.status, r.raw)
	}
	w.verifyCredentials(t, r, map[string]any{"given_name": "Erika"})
	if s := d.history(id)["status"]; s != "credential_issued" {
		t.Errorf("status %v", s)
	}
	// A late duplicate of the completion changes nothing; a different one is refused.
	if r := d.admin(http.MethodPut, "/credential/history/"+id, map[string]any{"credentials": []any{map[string]any{"credentialSubject": erika}}}); r.status != http.StatusOK {
		t.Errorf("late duplicate %d %s", r.status, r.raw)
	}
	if r := d.admin(http.MethodPut, "/credential/history/"+id, map[string]any{"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Max"}}}); r.status != http.StatusConflict ||
		!strings.Contains(r.str("errorDescription"), "already issued") {
		t.Errorf("late different completion %d %s", r.status, r.raw)
	}
}

// TestDeferredErrorsOverHTTP: unknown, deleted and InTime exchanges, and field-named 400s, through the gateway.
func TestDeferredErrorsOverHTTP(t *testing.T) {
	d := startDeferredIssuer(t)
	defID := d.definition()
	deleted, _ := d.deferredOffer(defID)
	if r := d.admin(http.MethodDelete, "/credential/history/"+deleted, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete %d %s", r.status, r.raw)
	}
	inTime, _ := d.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	fresh, _ := d.deferredOffer(defID)
	complete := map[string]any{"credential": map[string]any{"credentialSubject": erika}}
	tests := []struct {
		name   string
		id     string
		body   any
		status int
		want   string
	}{
		{name: "unknown", id: "no-such-exchange", body: complete, status: 404},
		{name: "deleted", id: deleted, body: complete, status: 404},
		{name: "InTime", id: inTime, body: complete, status: 409, want: "InTime"},
		{name: "reserved claim", id: fresh, body: map[string]any{"credential": map[string]any{"credentialSubject": map[string]any{"vct": "x"}}},
			status: 400, want: "credential.credentialSubject.vct"},
		{name: "denial without reason", id: fresh, body: map[string]any{"issuanceDenied": true}, status: 400, want: "issuanceDeniedReason"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := d.admin(http.MethodPut, "/credential/history/"+tc.id, tc.body)
			if r.status != tc.status || !strings.Contains(r.str("errorDescription"), tc.want) || r.json["errorCode"] != float64(tc.status) {
				t.Fatalf("%d %s, want %d with %q", r.status, r.raw, tc.status, tc.want)
			}
		})
	}
	// Events for gone exchanges are acknowledged, not retried.
	d.putEvent("DeferredCredentialReady", map[string]any{"credentialExchangeId": deleted, "credential": map[string]any{"credentialSubject": erika}})
	if dl := d.deliveries("DeferredCredentialReady", deleted); len(dl) != 1 || !dl[0].Delivered || dl[0].Attempts != 1 {
		t.Errorf("deliveries %+v", dl)
	}
}

// TestDeferredCompletionRacesPoll: several goroutines of the wallet poll while the completion arrives by PUT and
// by event at the same time; the polls get 202 (before) or 200 (after: the first pick-up recorded, the later
// ones answered from the record), every 200 carries the same credential set, and the record ends credential_acked
// with that one set.
func TestDeferredCompletionRacesPoll(t *testing.T) {
	d := startDeferredIssuer(t)
	defID := d.definition()
	for round := 0; round < 3; round++ {
		id, link := d.deferredOffer(defID)
		w := &dfrWallet{is: d.issuer, defID: defID}
		w.pending(t, link)
		// Each poller goes on until it has polled pollsAfterPickup times since the first 200 (polls racing the
		// pick-up's finish), or until stop (no pick-up in time).
		const pollers, pollsAfterPickup = 4, 3
		var (
			mu       sync.Mutex
			issued   []*response
			statuses = map[string]int{}
			wg       sync.WaitGroup
			stop     = make(chan struct{})
			picked   = make(chan struct{})
			pickOnce sync.Once
		)
		for p := 0; p < pollers; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for after := 0; after < pollsAfterPickup; {
					select {
					case <-stop:
						return
					default:
					}
					r := w.poll()
					mu.Lock()
					switch {
					case r.status == http.StatusOK:
						issued = append(issued, r)
						statuses["200"]++
					case r.status == http.StatusAccepted:
						statuses["202"]++
					default:
						statuses[r.str("error")]++
					}
					mu.Unlock()
					if r.status == http.StatusOK {
						pickOnce.Do(func() { close(picked) })
					}
					select {
					case <-picked:
						after++
					default:
					}
				}
			}()
		}
		body := map[string]any{"credential": map[string]any{"credentialSubject": erika}}
		var cwg sync.WaitGroup
		cwg.Add(2)
		go func() {
			defer cwg.Done()
			if r := d.admin(http.MethodPut, "/credential/history/"+id, body); r.status != http.StatusOK {
				t.Errorf("PUT %d %s", r.status, r.raw)
			}
		}()
		go func() {
			defer cwg.Done()
			d.putEvent("DeferredCredentialReady", map[string]any{"credentialExchangeId": id, "credential": body["credential"]})
		}()
		cwg.Wait()
		select {
		case <-picked:
		case <-time.After(10 * time.Second):
			close(stop)
		}
		wg.Wait()
		if len(issued) == 0 {
			t.Fatalf("round %d: no poll received credentials (answers %v)", round, statuses)
		}
		for i, r := range issued {
			if string(r.raw) != string(issued[0].raw) {
				t.Fatalf("round %d: poll answer %d carries another credential set than the first (answers %v)", round, i, statuses)
			}
		}
		for k := range statuses {
			if k != "200" && k != "202" {
				t.Errorf("round %d: unexpected poll answer %q (answers %v)", round, k, statuses)
			}
		}
		t.Logf("round %d: poll answers %v", round, statuses)
		w.verifyCredentials(t, issued[0], map[string]any{"given_name": "Erika"})
		h := d.history(id)
		if h["status"] != "credential_acked" || h["credentialToken"] == "" {
			t.Fatalf("round %d: record %v", round, h["status"])
		}
		got := map[string]bool{}
		for _, c := range issued[0].json["credentials"].([]any) {
			got[c.(map[string]any)["credential"].(string)] = true
		}
		for _, tok := range strings.Split(h["credentialToken"].(string), ",") {
			if !got[tok] {
				t.Fatalf("round %d: the recorded credentialToken is not the set the wallet received", round)
			}
		}
		if dl := d.deliveries("DeferredCredentialReady", id); len(dl) != 1 || !dl[0].Delivered {
			t.Errorf("round %d: event deliveries %+v", round, dl)
		}
	}
}
