package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// reply is an HTTP answer with its raw and decoded JSON body.
type reply struct {
	status int
	raw    []byte
	body   map[string]any
}

func (r reply) str(name string) string {
	s, _ := r.body[name].(string)
	return s
}

// send posts a JSON body (token: Bearer; admin: the admin API key) and reads the answer.
func (e *env) send(method, path, token string, admin bool, body any) reply {
	e.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	switch {
	case admin:
		req.Header.Set("Authorization", "ApiKey "+adminKey)
	case token != "":
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.c.HTTP.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := reply{status: res.StatusCode, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object", method, path)
		}
	}
	return r
}

// deferredWallet is a wallet waiting on a Deferred exchange the organisation has completed: its credential
// request was answered 202 with transaction id txn.
type deferredWallet struct {
	id, token, txn string
}

// completedDeferral issues a Deferred exchange, redeems it, asks for its credential (202), and completes it by the
// admin PUT, all without faults.
func (e *env) completedDeferral() deferredWallet {
	e.t.Helper()
	ctx := context.Background()
	iss := e.send(http.MethodPost, flow.AdminBase+"/credential/issue", "", true, map[string]any{
		"issuanceMode": "Deferred", "credentialDefinitionId": e.def})
	hist, _ := iss.body["credentialHistory"].(map[string]any)
	id, _ := hist["credentialExchangeId"].(string)
	link, _ := hist["credentialOffer"].(string)
	if (iss.status != http.StatusOK && iss.status != http.StatusCreated) || id == "" {
		e.t.Fatalf("issue Deferred: HTTP %d", iss.status)
	}
	uri, err := flow.OfferURI(link)
	if err != nil {
		e.t.Fatal(err)
	}
	offer, err := e.c.FetchOffer(ctx, uri)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.c.Token(ctx, offer.Code)
	if err != nil {
		e.t.Fatal(err)
	}
	proof, err := e.holder().Proof(offer.Issuer, e.nonce())
	if err != nil {
		e.t.Fatal(err)
	}
	cred := e.send(http.MethodPost, "/credential", tok, false, map[string]any{
		"credential_configuration_id": offer.ConfigurationID, "proofs": map[string]any{"jwt": []string{proof}}})
	if cred.status != http.StatusAccepted || cred.str("transaction_id") == "" {
		e.t.Fatalf("credential request: HTTP %d %q, want 202 with a transaction_id", cred.status, cred.str("error"))
	}
	done := e.send(http.MethodPut, flow.AdminBase+"/credential/history/"+id, "", true, map[string]any{
		"credential": map[string]any{"credentialSubject": flow.DefaultSubject()}})
	if done.status != http.StatusOK {
		e.t.Fatalf("complete: HTTP %d", done.status)
	}
	return deferredWallet{id: id, token: tok, txn: cred.str("transaction_id")}
}

// pickUp is the wallet's deferred credential request.
func (e *env) pickUp(w deferredWallet) reply {
	e.t.Helper()
	return e.send(http.MethodPost, "/deferred-credential", w.token, false, map[string]any{"transaction_id": w.txn})
}

// pickedUpCredentials are the credentials of a 200 deferred answer, which must be a 1.0 answer: `credentials`
// only (no notification_id, no transaction_id).
func pickedUpCredentials(t *testing.T, r reply) []string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("pick-up: HTTP %d %q, want 200", r.status, r.str("error"))
	}
	var out []string
	list, _ := r.body["credentials"].([]any)
	for _, item := range list {
		obj, _ := item.(map[string]any)
		if s, _ := obj["credential"].(string); s != "" {
			out = append(out, s)
		}
	}
	if len(out) != 1 || len(r.body) != 1 {
		t.Fatalf("pick-up answer has members %v and %d credentials, want credentials with one", keysOf(r.body), len(out))
	}
	v, err := sdjwt.Parse(out[0])
	if err != nil {
		t.Fatalf("picked-up credential does not parse: %v", err)
	}
	if v.Payload["vct"] != "LoadTestCredential" {
		t.Errorf("picked-up credential of %v", v.Payload["vct"])
	}
	return out
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCrashDuringDeferredPickup: the deferred credential function signs the completed exchange's credential, then
// dies before its write reaches DynamoDB, or after DynamoDB applied it (credential_acked, transaction id
// consumed) but before the wallet got the answer. Either way the wallet's retry with the same access token and
// transaction_id gets a credential of its exchange: a new one when nothing was recorded, the recorded one (the
// same string, in the same answer, no second KMS Sign) when the pick-up was applied; a further retry answers the
// same bytes again. The record holds one pick-up's credentials, never two; another exchange's token or an unknown
// transaction id is still refused.
func TestCrashDuringDeferredPickup(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
	}{
		{"pick-up write never sent", Refuse},
		{"pick-up write applied, answer lost", LoseAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, 0)
			e.warm()
			w := e.completedDeferral()
			before := e.items()
			signs := e.inj.Hits("KMS.Sign")
			e.inj.Set("DynamoDB.TransactWriteItems", Rule{Mode: tt.mode})
			first := e.pickUp(w)
			e.inj.Clear()
			if e.inj.Hits("KMS.Sign") == signs {
				t.Fatal("the fault hit before signing; this test needs a signed, unrecorded pick-up")
			}
			if first.status < 500 || first.str("error") != "server_error" {
				t.Fatalf("the crashed pick-up answered HTTP %d %q, want 5xx server_error", first.status, first.str("error"))
			}
			rec := e.history(w.id)
			recorded, _ := rec["credentialToken"].(string)
			switch tt.mode {
			case Refuse:
				e.sameItems(before, e.items())
				if rec["status"] != "offer_received" {
					t.Fatalf("status %v after an unsent pick-up, want offer_received", rec["status"])
				}
			case LoseAnswer:
				if rec["status"] != "credential_acked" || recorded == "" {
					t.Fatalf("status %v, credentialToken recorded %v: the pick-up was not applied", rec["status"], recorded != "")
				}
			}

			signs = e.inj.Hits("KMS.Sign")
			retry := e.pickUp(w)
			creds := pickedUpCredentials(t, retry)
			rec = e.history(w.id)
			if rec["status"] != "credential_acked" || rec["credentialToken"] != creds[0] {
				t.Errorf("status %v; the recorded credentialToken is not the credential the retry got", rec["status"])
			}
			if tt.mode == LoseAnswer {
				if creds[0] != recorded {
					t.Errorf("the retry after a lost answer did not get the recorded credential")
				}
				if n := e.inj.Hits("KMS.Sign") - signs; n != 0 {
					t.Errorf("the retry after a lost answer signed %d times", n)
				}
			}

			// Once recorded, a further retry answers the same bytes, and refusals stay refusals; nothing changes.
			other := e.completedDeferral()
			settled := e.items()
			signs = e.inj.Hits("KMS.Sign")
			if again := e.pickUp(w); !bytes.Equal(again.raw, retry.raw) || again.status != retry.status {
				t.Errorf("a further retry answered HTTP %d and other bytes than the retry", again.status)
			}
			if e.inj.Hits("KMS.Sign") != signs {
				t.Errorf("a further retry signed")
			}
			refusals := []struct {
				name   string
				w      deferredWallet
				status int
				code   string
			}{
				{"unknown transaction id", deferredWallet{token: w.token, txn: "AAAA" + w.txn[4:]}, http.StatusBadRequest, "invalid_transaction_id"},
				{"another exchange's token", deferredWallet{token: other.token, txn: w.txn}, http.StatusBadRequest, "invalid_transaction_id"},
				{"the other exchange's transaction id", deferredWallet{token: w.token, txn: other.txn}, http.StatusBadRequest, "invalid_transaction_id"},
			}
			for _, r := range refusals {
				got := e.pickUp(r.w)
				if got.status != r.status || got.str("error") != r.code {
					t.Errorf("%s: HTTP %d %q, want %d %s", r.name, got.status, got.str("error"), r.status, r.code)
				}
			}
			e.sameItems(settled, e.items())
		})
	}
}
