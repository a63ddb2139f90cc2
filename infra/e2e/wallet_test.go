package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

var erika = map[string]any{"given_name": "Erika", "family_name": "Mustermann",
	"address": map[string]any{"street_address": "Heidestrasse 17", "locality": "Koeln"}}

// TestWalletPreAuthorizedFlow plays a 1.0 wallet through every wallet endpoint of an InTime exchange with a
// tx_code, a batch of two proofs, and the notification.
func TestWalletPreAuthorizedFlow(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "userPin": "4821", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})

	// the offer by reference
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	if offer.status != http.StatusOK || offer.str("credential_issuer") != is.url || offer.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("offer: %d %s", offer.status, offer.raw)
	}
	grant, _ := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	code, _ := grant["pre-authorized_code"].(string)
	tx, _ := grant["tx_code"].(map[string]any)
	if code == "" || tx["input_mode"] != "numeric" || tx["length"] != 4.0 {
		t.Fatalf("grant %v", grant)
	}
	if s := is.history(exID)["status"]; s != "offer_received" {
		t.Errorf("status after fetch %v", s)
	}

	// metadata, with HTTP caching
	md := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil)
	if md.status != http.StatusOK || md.str("credential_issuer") != is.url || md.str("credential_endpoint") != is.url+"/credential" {
		t.Fatalf("metadata %d %s", md.status, md.raw)
	}
	if _, ok := md.json["credential_configurations_supported"].(map[string]any)[defID]; !ok {
		t.Fatalf("configuration %s missing: %s", defID, md.raw)
	}
	batch, _ := md.json["batch_credential_issuance"].(map[string]any)
	if batch["batch_size"] == nil || !strings.Contains(md.header.Get("Cache-Control"), "max-age=") || md.header.Get("ETag") == "" {
		t.Errorf("batch %v headers %v", batch, md.header)
	}
	if again := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil, "If-None-Match", md.header.Get("ETag")); again.status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", again.status)
	}
	as := is.do(http.MethodGet, "/.well-known/oauth-authorization-server", nil)
	if as.status != http.StatusOK || as.str("token_endpoint") != is.url+"/token" {
		t.Errorf("AS metadata %d %s", as.status, as.raw)
	}
	jv := is.do(http.MethodGet, "/.well-known/jwt-vc-issuer", nil)
	if jv.status != http.StatusOK || jv.str("issuer") != is.url {
		t.Fatalf("jwt-vc-issuer %d %s", jv.status, jv.raw)
	}
	jwksRaw, _ := json.Marshal(jv.json["jwks"])
	jwks, err := jwk.Parse(jwksRaw)
	if err != nil {
		t.Fatal(err)
	}

	// token
	tok := is.postForm("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"},
		"pre-authorized_code": {code}, "tx_code": {"4821"}})
	if tok.status != http.StatusOK || tok.str("token_type") != "Bearer" || tok.str("c_nonce") == "" || tok.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token %d %s %v", tok.status, tok.raw, tok.header)
	}
	access := tok.str("access_token")

	// nonce and a batch credential request
	nonce := is.do(http.MethodPost, "/nonce", nil)
	if nonce.status != http.StatusOK || nonce.str("c_nonce") == "" || nonce.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("nonce %d %s", nonce.status, nonce.raw)
	}
	h1, h2 := newHolder(t), newHolder(t)
	cred := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h1.proof(t, is.url, nonce.str("c_nonce")), h2.proof(t, is.url, nonce.str("c_nonce"))}}})
	if cred.status != http.StatusOK || cred.str("notification_id") == "" {
		t.Fatalf("credential %d %s", cred.status, cred.raw)
	}
	creds, _ := cred.json["credentials"].([]any)
	if len(creds) != 2 {
		t.Fatalf("credentials %s", cred.raw)
	}
	for i, h := range []holder{h1, h2} {
		c, _ := creds[i].(map[string]any)["credential"].(string)
		v, err := sdjwt.Verify(c, sdjwt.WithIssuerKeySet(jwks))
		if err != nil {
			t.Fatalf("credential %d: %v", i, err)
		}
		if v.Claims["given_name"] != "Erika" || v.Claims["iss"] != is.url || v.Header["typ"] != "dc+sd-jwt" {
			t.Errorf("claims %v header %v", v.Claims, v.Header)
		}
		cnf, _ := json.Marshal(v.Claims["cnf"].(map[string]any)["jwk"])
		k, err := jwk.ParseKey(cnf)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := keys.Thumbprint(k)
		b, _ := keys.Thumbprint(h.pub)
		if a != b {
			t.Errorf("credential %d is not bound to its proof key", i)
		}
	}
	// the same nonce again: replay refused
	replay := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h1.proof(t, is.url, nonce.str("c_nonce"))}}})
	if replay.status != http.StatusBadRequest || (replay.str("error") != "invalid_nonce" && replay.str("error") != "credential_request_denied") {
		t.Errorf("replay %d %s", replay.status, replay.raw)
	}

	rec := is.history(exID)
	if rec["status"] != "credential_issued" || rec["proofType"] != "jwt" || rec["credentialToken"] == "" || rec["cnf"] == nil {
		t.Errorf("record after issuance: status %v proofType %v", rec["status"], rec["proofType"])
	}
	note := is.postJSON("/notification", access, map[string]any{"notification_id": cred.str("notification_id"), "event": "credential_accepted"})
	if note.status != http.StatusNoContent {
		t.Fatalf("notification %d %s", note.status, note.raw)
	}
	if again := is.postJSON("/notification", access, map[string]any{"notification_id": cred.str("notification_id"), "event": "credential_accepted"}); again.status != http.StatusNoContent {
		t.Errorf("repeated notification %d %s", again.status, again.raw)
	}
	if s := is.history(exID)["status"]; s != "credential_accepted" {
		t.Errorf("status %v", s)
	}
	// the redeemed offer is gone
	if gone := is.do(http.MethodGet, offerURI(t, link), nil); gone.status != http.StatusNotFound || gone.str("error") == "" {
		t.Errorf("redeemed offer: %d %s", gone.status, gone.raw)
	}
}

// TestWalletDraft13 plays a draft-13 wallet: c_nonce from the token response, format+vct with a single proof,
// answered in the draft-13 shape with a vc+sd-jwt credential.
func TestWalletDraft13(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	code := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)["pre-authorized_code"].(string)
	tok := is.postForm("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}})
	h := newHolder(t)
	cred := is.postJSON("/credential", tok.str("access_token"), map[string]any{"format": "vc+sd-jwt", "vct": "PortableDocumentA1",
		"proof": map[string]any{"proof_type": "jwt", "jwt": h.proof(t, is.url, tok.str("c_nonce"))}})
	if cred.status != http.StatusOK || cred.str("credential") == "" || cred.str("c_nonce") == "" {
		t.Fatalf("draft-13 credential %d %s", cred.status, cred.raw)
	}
	v, err := sdjwt.Verify(cred.str("credential"), sdjwt.WithTypes("vc+sd-jwt"), sdjwt.WithIssuerKeySet(jwksOf(t, is)))
	if err != nil || v.Header["typ"] != "vc+sd-jwt" {
		t.Fatalf("verify: %v %v", err, v)
	}
}

// TestWalletDraft15 plays a draft-15 wallet (Sphereon's client): credential_configuration_id with a single proof
// over a nonce of the nonce endpoint, answered as 1.0 answers (credentials[], notification_id).
func TestWalletDraft15(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	code := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)["pre-authorized_code"].(string)
	tok := is.postForm("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}})
	nonce := is.do(http.MethodPost, "/nonce", nil).str("c_nonce")
	h := newHolder(t)
	cred := is.postJSON("/credential", tok.str("access_token"), map[string]any{"credential_configuration_id": defID,
		"proof": map[string]any{"proof_type": "jwt", "jwt": h.proof(t, is.url, nonce)}})
	creds, _ := cred.json["credentials"].([]any)
	if cred.status != http.StatusOK || len(creds) != 1 || cred.str("notification_id") == "" || cred.str("c_nonce") != "" {
		t.Fatalf("draft-15 credential %d %s", cred.status, cred.raw)
	}
	sd, _ := creds[0].(map[string]any)["credential"].(string)
	v, err := sdjwt.Verify(sd, sdjwt.WithIssuerKeySet(jwksOf(t, is)))
	if err != nil || v.Header["typ"] != "dc+sd-jwt" {
		t.Fatalf("verify: %v %v", err, v)
	}
}

func jwksOf(t *testing.T, is *issuer) jwk.Set {
	t.Helper()
	return jwksIn(t, is.do(http.MethodGet, "/.well-known/jwt-vc-issuer", nil))
}

// jwksIn is the key set of a jwt-vc-issuer document.
func jwksIn(t *testing.T, jv *response) jwk.Set {
	t.Helper()
	raw, _ := json.Marshal(jv.json["jwks"])
	set, err := jwk.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestWalletDeferred: a Deferred exchange answers 202 with transaction_id until the organisation completes it.
func TestWalletDeferred(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	exID, link := is.issue(map[string]any{"issuanceMode": "Deferred", "credentialDefinitionId": defID})
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	code := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)["pre-authorized_code"].(string)
	tok := is.postForm("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}})
	if tok.status != http.StatusOK || tok.json["expires_in"].(float64) < 3600 {
		t.Fatalf("token %d %s", tok.status, tok.raw)
	}
	access := tok.str("access_token")
	h := newHolder(t)
	nonce := is.do(http.MethodPost, "/nonce", nil).str("c_nonce")
	cred := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, nonce)}}})
	txn := cred.str("transaction_id")
	if cred.status != http.StatusAccepted || txn == "" || cred.json["interval"] == nil {
		t.Fatalf("credential %d %s", cred.status, cred.raw)
	}
	pending := is.postJSON("/deferred-credential", access, map[string]any{"transaction_id": txn})
	if pending.status != http.StatusAccepted || pending.str("transaction_id") != txn {
		t.Fatalf("pending %d %s", pending.status, pending.raw)
	}
	done := is.admin(http.MethodPut, "/credential/history/"+exID, map[string]any{"credential": map[string]any{"credentialSubject": erika}})
	if done.status == http.StatusNotImplemented {
		// The organisation's completion is issue 5's; until it lands the pick-up half cannot run.
		t.Logf("deferred completion not available yet (%s); pick-up not exercised", done.raw)
		return
	}
	if done.status != http.StatusOK {
		t.Fatalf("complete: %d %s", done.status, done.raw)
	}
	ready := is.postJSON("/deferred-credential", access, map[string]any{"transaction_id": txn})
	if ready.status != http.StatusOK || ready.json["notification_id"] != nil {
		t.Fatalf("ready %d %s", ready.status, ready.raw)
	}
	c := ready.json["credentials"].([]any)[0].(map[string]any)["credential"].(string)
	if _, err := sdjwt.Verify(c, sdjwt.WithIssuerKeySet(jwksOf(t, is))); err != nil {
		t.Fatal(err)
	}
	if s := is.history(exID)["status"]; s != "credential_acked" {
		t.Errorf("status %v", s)
	}
	// the answer lost: the same token and transaction id get the recorded answer again, byte for byte
	if again := is.postJSON("/deferred-credential", access, map[string]any{"transaction_id": txn}); again.status != http.StatusOK ||
		string(again.raw) != string(ready.raw) {
		t.Errorf("second pick-up: HTTP %d %q, want 200 with the first answer again", again.status, again.str("error"))
	}
}

// TestWalletErrors checks the status, error code and headers of every wallet error path over HTTP.
func TestWalletErrors(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "userPin": "4821", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	code := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)["pre-authorized_code"].(string)
	grant := "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	form := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {grant}, "pre-authorized_code": {code}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	h := newHolder(t)
	tests := []struct {
		name       string
		call       func() *response
		wantStatus int
		wantError  string
	}{
		{name: "unknown offer", call: func() *response { return is.do(http.MethodGet, "/credential-offer/nope", nil) },
			wantStatus: 404, wantError: "invalid_request"},
		{name: "token: wrong grant type", call: func() *response { return is.postForm("/token", form("grant_type", "client_credentials")) },
			wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "token: missing tx_code", call: func() *response { return is.postForm("/token", form()) },
			wantStatus: 400, wantError: "invalid_request"},
		{name: "token: wrong tx_code", call: func() *response { return is.postForm("/token", form("tx_code", "0000")) },
			wantStatus: 400, wantError: "invalid_grant"},
		{name: "token: unknown code", call: func() *response { return is.postForm("/token", form("pre-authorized_code", "nope", "tx_code", "4821")) },
			wantStatus: 400, wantError: "invalid_grant"},
		{name: "token: JSON body", call: func() *response { return is.postJSON("/token", "", map[string]any{"grant_type": grant}) },
			wantStatus: 400, wantError: "invalid_request"},
		{name: "credential: no token", call: func() *response { return is.postJSON("/credential", "", map[string]any{}) },
			wantStatus: 401, wantError: "invalid_token"},
		{name: "credential: unknown token", call: func() *response {
			return is.postJSON("/credential", "nope", map[string]any{"credential_configuration_id": defID,
				"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, "n")}}})
		}, wantStatus: 401, wantError: "invalid_token"},
		{name: "deferred: unknown token", call: func() *response {
			return is.postJSON("/deferred-credential", "nope", map[string]any{"transaction_id": "x"})
		}, wantStatus: 401, wantError: "invalid_token"},
		{name: "notification: unknown token", call: func() *response {
			return is.postJSON("/notification", "nope", map[string]any{"notification_id": "x", "event": "credential_accepted"})
		}, wantStatus: 401, wantError: "invalid_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.call()
			if r.status != tc.wantStatus || r.str("error") != tc.wantError || r.str("error_description") == "" {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.wantStatus, tc.wantError)
			}
			// RFC 6750, section 3.1: no error code in the challenge when the request carried no authentication.
			wantChallenge := `error="invalid_token"`
			if strings.HasSuffix(tc.name, "no token") {
				wantChallenge = ""
			}
			// Without authentication, DPoP is offered beside Bearer (RFC 9449 section 7.1).
			if got := r.header.Get("WWW-Authenticate"); tc.wantStatus == 401 && (!strings.HasPrefix(got, "Bearer") ||
				!strings.Contains(got, wantChallenge) || wantChallenge == "" && got != `Bearer, DPoP algs="ES256 ES384 ES512 EdDSA"`) {
				t.Errorf("WWW-Authenticate %q", got)
			}
		})
	}

	// with a valid token
	tok := is.postForm("/token", form("tx_code", "4821"))
	if tok.status != http.StatusOK {
		t.Fatalf("token %d %s", tok.status, tok.raw)
	}
	access := tok.str("access_token")
	nonce := is.do(http.MethodPost, "/nonce", nil).str("c_nonce")
	authed := []struct {
		name      string
		path      string
		body      map[string]any
		wantError string
	}{
		{name: "credential: unknown configuration", path: "/credential", body: map[string]any{"credential_configuration_id": "other",
			"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, nonce)}}}, wantError: "unknown_credential_configuration"},
		{name: "credential: unknown identifier", path: "/credential", body: map[string]any{"credential_identifier": "other",
			"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, nonce)}}}, wantError: "unknown_credential_identifier"},
		{name: "credential: unknown nonce", path: "/credential", body: map[string]any{"credential_configuration_id": defID,
			"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, "not-a-nonce")}}}, wantError: "invalid_nonce"},
		{name: "credential: wrong audience", path: "/credential", body: map[string]any{"credential_configuration_id": defID,
			"proofs": map[string]any{"jwt": []string{h.proof(t, "https://other.example", nonce)}}}, wantError: "invalid_proof"},
		{name: "credential: no proofs", path: "/credential", body: map[string]any{"credential_configuration_id": defID}, wantError: "invalid_proof"},
		{name: "credential: malformed proof", path: "/credential", body: map[string]any{"credential_configuration_id": defID,
			"proofs": map[string]any{"jwt": []string{"a.b.c"}}}, wantError: "invalid_proof"},
		{name: "deferred: unknown transaction", path: "/deferred-credential", body: map[string]any{"transaction_id": "nope"}, wantError: "invalid_transaction_id"},
		{name: "deferred: missing transaction", path: "/deferred-credential", body: map[string]any{}, wantError: "invalid_credential_request"},
		{name: "notification: unknown id", path: "/notification", body: map[string]any{"notification_id": "nope", "event": "credential_accepted"}, wantError: "invalid_notification_id"},
		{name: "notification: bad event", path: "/notification", body: map[string]any{"notification_id": "nope", "event": "lost"}, wantError: "invalid_notification_request"},
	}
	for _, tc := range authed {
		t.Run(tc.name, func(t *testing.T) {
			r := is.postJSON(tc.path, access, tc.body)
			if r.status != http.StatusBadRequest || r.str("error") != tc.wantError || r.str("error_description") == "" {
				t.Fatalf("got %d %s, want 400 %s", r.status, r.raw, tc.wantError)
			}
		})
	}
}

// TestWalletConcurrentRedemption: many parallel token requests for one code over HTTP, exactly one token.
func TestWalletConcurrentRedemption(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	code := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)["pre-authorized_code"].(string)
	const n = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := is.postForm("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}})
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[200] != 1 || statuses[400] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 400", statuses, n-1)
	}
}
