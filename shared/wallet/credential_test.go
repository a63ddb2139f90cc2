package wallet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

func TestRequestCredentialBatch(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	offerID, rec := f.offer(exchange.ModeInTime, "", erika())
	tok := f.mustToken(offerID, "")
	nonce := f.nonce()
	h1, h2 := newHolder(t), newHolder(t)
	req := credentialRequest(t, f.def.ID, h1.proof(t, nonce, "", f.clock.Now()), h2.proof(t, nonce, "", f.clock.Now()))
	ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Issuance.Credentials) != 2 || ans.Issuance.NotificationID == "" || ans.Issuance.TransactionID != "" {
		t.Fatalf("issuance = %+v", ans.Issuance)
	}
	v := f.verifyBound(ans.Issuance.Credentials[0], h1)
	f.verifyBound(ans.Issuance.Credentials[1], h2)
	if v.Header["typ"] != "dc+sd-jwt" || v.Claims["vct"] != f.def.VCT || v.Claims["given_name"] != "Erika" {
		t.Errorf("header %v claims %v", v.Header, v.Claims)
	}
	exp, _ := v.Claims["exp"].(json.Number).Int64()
	if want := f.clock.Now().AddDate(0, 0, 365).Unix(); exp != want {
		t.Errorf("exp = %d, want %d", exp, want)
	}
	got := f.store.record(rec.CredentialExchangeID)
	if got.Status != exchange.StatusCredentialIssued || got.ProofType != "jwt" || got.Cnf["jwk"] == nil ||
		len(splitCredentials(got.CredentialToken)) != 2 || got.IssuedCount != 2 || got.Proof == "" {
		t.Errorf("record status %s proofType %q cnf %v issued %d", got.Status, got.ProofType, got.Cnf, got.IssuedCount)
	}
	if id, ok := exchange.SecretExchangeID(ans.Issuance.NotificationID); !ok || id != rec.CredentialExchangeID ||
		!exchange.SecretMatches(ans.Issuance.NotificationID, got.NotificationIDHash) {
		t.Errorf("notification_id does not name its exchange or its hash is not in the record")
	}
	// the nonce was consumed with the write (its used-marker put): a replay of the same proofs fails
	if _, err := f.store.GetPointer(context.Background(), exchange.CNonceMarker(nonce)); err != nil {
		t.Errorf("nonce not marked used: %v", err)
	}
	ev := f.events.DetailTypes()
	if len(ev) == 0 || ev[len(ev)-1] != "credential.credential_issued" {
		t.Errorf("events = %v", ev)
	}
}

func TestRequestCredentialPayloadMapping(t *testing.T) {
	tests := []struct {
		name     string
		subjects int
		proofs   int
		want     int
	}{
		{name: "one payload one proof", subjects: 1, proofs: 1, want: 1},
		{name: "one payload three proofs", subjects: 1, proofs: 3, want: 3},
		{name: "three payloads one proof", subjects: 3, proofs: 1, want: 3},
		{name: "two payloads three proofs", subjects: 2, proofs: 3, want: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			var subjects []map[string]any
			for i := 0; i < tc.subjects; i++ {
				subjects = append(subjects, map[string]any{"given_name": fmt.Sprintf("person-%d", i)})
			}
			offerID, _ := f.offer(exchange.ModeInTime, "", subjects...)
			tok := f.mustToken(offerID, "")
			nonce := f.nonce()
			var holders []holder
			var proofs []string
			for i := 0; i < tc.proofs; i++ {
				h := newHolder(t)
				holders = append(holders, h)
				proofs = append(proofs, h.proof(t, nonce, "", f.clock.Now()))
			}
			ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken), credentialRequest(t, f.def.ID, proofs...))
			if err != nil {
				t.Fatal(err)
			}
			if len(ans.Issuance.Credentials) != tc.want {
				t.Fatalf("%d credentials, want %d", len(ans.Issuance.Credentials), tc.want)
			}
			for i, c := range ans.Issuance.Credentials {
				v := f.verifyBound(c, holders[i%tc.proofs])
				if want := fmt.Sprintf("person-%d", i%tc.subjects); v.Claims["given_name"] != want {
					t.Errorf("credential %d given_name %v, want %s", i, v.Claims["given_name"], want)
				}
			}
		})
	}
}

func TestRequestCredentialDialects(t *testing.T) {
	tests := []struct {
		name    string
		body    func(proof string) string
		dialect oid4vci.Dialect
		typ     string
	}{
		{name: "1.0 twin configuration", dialect: oid4vci.DialectV1, typ: "vc+sd-jwt", body: func(p string) string {
			return `{"credential_configuration_id":"def-pda1_vc_sd_jwt","proofs":{"jwt":["` + p + `"]}}`
		}},
		{name: "draft 13 vc+sd-jwt", dialect: oid4vci.DialectDraft13, typ: "vc+sd-jwt", body: func(p string) string {
			return `{"format":"vc+sd-jwt","vct":"PortableDocumentA1","proof":{"proof_type":"jwt","jwt":"` + p + `"}}`
		}},
		{name: "draft 13 dc+sd-jwt", dialect: oid4vci.DialectDraft13, typ: "dc+sd-jwt", body: func(p string) string {
			return `{"format":"dc+sd-jwt","vct":"PortableDocumentA1","proof":{"proof_type":"jwt","jwt":"` + p + `"}}`
		}},
		{name: "draft 12", dialect: oid4vci.DialectDraft12, typ: "vc+sd-jwt", body: func(p string) string {
			return `{"format":"vc+sd-jwt","credential_definition":{"vct":"PortableDocumentA1"},"proof":{"proof_type":"jwt","jwt":"` + p + `"}}`
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			offerID, _ := f.offer(exchange.ModeInTime, "", erika())
			tok := f.mustToken(offerID, "")
			h := newHolder(t)
			// draft wallets take their nonce from the token response
			req := parseCredentialRequest(t, []byte(tc.body(h.proof(t, tok.CNonce, "", f.clock.Now()))))
			if req.Dialect != tc.dialect {
				t.Fatalf("dialect %v, want %v", req.Dialect, tc.dialect)
			}
			ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken), req)
			if err != nil {
				t.Fatal(err)
			}
			v := f.verifyBound(ans.Issuance.Credentials[0], h)
			if v.Header["typ"] != tc.typ || ans.Issuance.Format != tc.typ {
				t.Errorf("typ %v format %s, want %s", v.Header["typ"], ans.Issuance.Format, tc.typ)
			}
			if tc.dialect.Legacy() != (ans.Issuance.CNonce != nil) {
				t.Errorf("c_nonce %+v for dialect %v", ans.Issuance.CNonce, tc.dialect)
			}
			status, body, err := oid4vci.BuildCredentialResponse(ans.Dialect, ans.Shape, ans.Issuance)
			if err != nil || status != 200 {
				t.Fatalf("response %d %v", status, err)
			}
			b, _ := json.Marshal(body)
			if tc.dialect.Legacy() && !strings.Contains(string(b), `"credential":"`) {
				t.Errorf("draft response %s", b)
			}
		})
	}
}

func TestRequestCredentialErrors(t *testing.T) {
	type env struct {
		f     *walletFixture
		tok   string
		nonce string
		h     holder
		rec   exchange.Record
	}
	tests := []struct {
		name     string
		token    func(e *env) string
		req      func(t *testing.T, e *env) *oid4vci.CredentialRequest
		wantCode string
		wantDesc string
	}{
		{name: "unknown access token", token: func(*env) string { return "nope" }, wantCode: oid4vci.ErrInvalidToken},
		{name: "empty access token", token: func(*env) string { return "" }, wantCode: oid4vci.ErrInvalidToken},
		{name: "forged access token naming the exchange", token: func(e *env) string {
			return e.rec.CredentialExchangeID + "." + forged
		}, wantCode: oid4vci.ErrInvalidToken},
		{name: "access token of a deleted exchange", token: func(e *env) string {
			e.f.store.DropExchange(e.rec.CredentialExchangeID)
			return e.tok
		}, wantCode: oid4vci.ErrInvalidToken},
		{name: "expired access token", token: func(e *env) string {
			e.f.clock.Advance(wallet.DefaultAccessTokenTTL + time.Second)
			return e.tok
		}, wantCode: oid4vci.ErrInvalidToken},
		{name: "other configuration", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return credentialRequest(t, "other", e.h.proof(t, e.nonce, "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrUnknownCredentialConfiguration},
		{name: "other credential_identifier", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return parseCredentialRequest(t, []byte(`{"credential_identifier":"other","proofs":{"jwt":["`+e.h.proof(t, e.nonce, "", e.f.clock.Now())+`"]}}`))
		}, wantCode: oid4vci.ErrUnknownCredentialIdentifier},
		{name: "other vct (draft 13)", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return parseCredentialRequest(t, []byte(`{"format":"vc+sd-jwt","vct":"Other","proof":{"proof_type":"jwt","jwt":"`+e.h.proof(t, e.nonce, "", e.f.clock.Now())+`"}}`))
		}, wantCode: oid4vci.ErrUnknownCredentialConfiguration},
		{name: "proof without nonce", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return credentialRequest(t, e.f.def.ID, e.h.proof(t, "", "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrInvalidProof},
		{name: "unknown nonce", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return credentialRequest(t, e.f.def.ID, e.h.proof(t, "made-up", "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrInvalidNonce},
		{name: "expired nonce", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			e.f.clock.Advance(wallet.DefaultNonceTTL + time.Second)
			return credentialRequest(t, e.f.def.ID, e.h.proof(t, e.nonce, "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrInvalidNonce},
		// c_nonces are stateless and bound to no exchange (like the nonce endpoint's always were); one not
		// minted by this issuer is refused before signing.
		{name: "nonce not minted here", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return credentialRequest(t, e.f.def.ID, e.h.proof(t, "bm90LWEtbm9uY2Utb2YtdGhpcy1pc3N1ZXI", "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrInvalidNonce},
		{name: "wrong audience", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return credentialRequest(t, e.f.def.ID, e.h.proof(t, e.nonce, "https://evil.example", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrInvalidProof, wantDesc: "aud"},
		{name: "stale proof", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return credentialRequest(t, e.f.def.ID, e.h.proof(t, e.nonce, "", e.f.clock.Now().Add(-time.Hour)))
		}, wantCode: oid4vci.ErrInvalidProof, wantDesc: "iat"},
		{name: "no proof", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return &oid4vci.CredentialRequest{CredentialConfigurationID: e.f.def.ID}
		}, wantCode: oid4vci.ErrInvalidProof},
		{name: "more proofs than batch_size", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			var ps []string
			for i := 0; i <= wallet.DefaultBatchSize; i++ {
				ps = append(ps, newHolder(t).proof(t, e.nonce, "", e.f.clock.Now()))
			}
			return credentialRequest(t, e.f.def.ID, ps...)
		}, wantCode: oid4vci.ErrInvalidCredentialRequest},
		{name: "already issued to another key", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			first := credentialRequest(t, e.f.def.ID, e.h.proof(t, e.nonce, "", e.f.clock.Now()))
			if _, err := e.f.svc.RequestCredential(context.Background(), wallet.Bearer(e.tok), first); err != nil {
				t.Fatal(err)
			}
			return credentialRequest(t, e.f.def.ID, newHolder(t).proof(t, e.f.nonce(), "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrCredentialRequestDenied, wantDesc: "other keys"},
		{name: "replayed nonce", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			p := e.h.proof(t, e.nonce, "", e.f.clock.Now())
			otherOffer, _ := e.f.offer(exchange.ModeInTime, "", erika())
			other := e.f.mustToken(otherOffer, "")
			if _, err := e.f.svc.RequestCredential(context.Background(), wallet.Bearer(other.AccessToken), credentialRequest(t, e.f.def.ID, p)); err != nil {
				t.Fatal(err)
			}
			return credentialRequest(t, e.f.def.ID, p)
		}, wantCode: oid4vci.ErrInvalidNonce},
		{name: "denied exchange", req: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			cur := e.f.store.record(e.rec.CredentialExchangeID)
			next := cur.Clone()
			if err := next.Transition(exchange.StatusIssuanceDenied, e.f.clock.Now().Unix()); err != nil {
				t.Fatal(err)
			}
			if err := e.f.store.UpdateExchange(context.Background(), next, exchange.Expect{Version: cur.Version, Status: cur.Status}); err != nil {
				t.Fatal(err)
			}
			return credentialRequest(t, e.f.def.ID, e.h.proof(t, e.nonce, "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrCredentialRequestDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			offerID, rec := f.offer(exchange.ModeInTime, "", erika())
			tok := f.mustToken(offerID, "")
			e := &env{f: f, tok: tok.AccessToken, nonce: f.nonce(), h: newHolder(t), rec: rec}
			token := e.tok
			if tc.token != nil {
				token = tc.token(e)
			}
			var req *oid4vci.CredentialRequest
			if tc.req != nil {
				req = tc.req(t, e)
			} else {
				req = credentialRequest(t, f.def.ID, e.h.proof(t, e.nonce, "", f.clock.Now()))
			}
			_, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(token), req)
			if oauthCode(err) != tc.wantCode {
				t.Fatalf("err = %v, want %s", err, tc.wantCode)
			}
			var oe *oid4vci.Error
			errors.As(err, &oe)
			if oe.Description == "" || !strings.Contains(oe.Description, tc.wantDesc) {
				t.Errorf("description %q, want it to mention %q", oe.Description, tc.wantDesc)
			}
		})
	}
}

func TestRequestCredentialStoreFailures(t *testing.T) {
	for _, method := range []string{"GetExchange", "UpdateExchange"} {
		t.Run(method, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			offerID, _ := f.offer(exchange.ModeInTime, "", erika())
			tok := f.mustToken(offerID, "")
			req := credentialRequest(t, f.def.ID, newHolder(t).proof(t, f.nonce(), "", f.clock.Now()))
			boom := errors.New("dynamodb down")
			f.store.failOnce(method, boom)
			_, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken), req)
			if !errors.Is(err, boom) || oauthCode(err) != "" {
				t.Fatalf("err = %v, want the store failure as an internal error", err)
			}
		})
	}
}

// TestOneNonceConcurrently: many parallel credential requests with one c_nonce, exactly one credential.
func TestOneNonceConcurrently(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	offerID, rec := f.offer(exchange.ModeInTime, "", erika())
	tok := f.mustToken(offerID, "")
	nonce := f.nonce()
	const n = 20
	reqs := make([]*oid4vci.CredentialRequest, n)
	for i := range reqs {
		reqs[i] = credentialRequest(t, f.def.ID, newHolder(t).proof(t, nonce, "", f.clock.Now()))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(req *oid4vci.CredentialRequest) {
			defer wg.Done()
			_, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken), req)
			mu.Lock()
			defer mu.Unlock()
			switch oauthCode(err) {
			case "":
				if err != nil {
					t.Errorf("internal error: %v", err)
					return
				}
				wins++
			case oid4vci.ErrInvalidNonce, oid4vci.ErrCredentialRequestDenied:
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}(reqs[i])
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d requests got credentials, want 1", wins)
	}
	if got := f.store.record(rec.CredentialExchangeID); len(splitCredentials(got.CredentialToken)) != 1 {
		t.Errorf("record holds %d credentials", len(splitCredentials(got.CredentialToken)))
	}
}

func TestMetadata(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{BatchSize: 4})
	for i := 0; i < 150; i++ {
		d := f.def
		d.ID = fmt.Sprintf("def-%03d", i)
		f.store.define(d)
	}
	// A configuration stored by an earlier release still carries claim names: they are not published.
	if err := f.store.PutDynamicConfiguration(context.Background(), definition.DynamicConfiguration{
		ConfigurationID: "DynType", VCT: "DynType", Claims: []string{"patient_2026_hiv_positive", "b"},
		ExpiresAt: f.clock.Now().Add(time.Hour).Unix()}); err != nil {
		t.Fatal(err)
	}
	md, err := f.svc.IssuerMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// docs/security.md, "Claim names in public metadata": the anonymous metadata names claims only from
	// definitions; a configuration issued without one is listed (its id and vct) with no claims.
	if b, _ := json.Marshal(md); strings.Contains(string(b), "patient_2026_hiv_positive") {
		t.Error("the public metadata names a claim of an exchange issued without a definition")
	}
	if md.CredentialIssuer != walletIssuer || md.CredentialEndpoint != walletIssuer+"/credential" ||
		md.NonceEndpoint != walletIssuer+"/nonce" || md.BatchCredentialIssuance == nil || md.BatchCredentialIssuance.BatchSize != 4 {
		t.Errorf("metadata %+v", md)
	}
	// 151 definitions and one dynamic configuration, each with its draft-13 twin
	if got := len(md.CredentialConfigurationsSupported); got != 2*152 {
		t.Errorf("%d configurations, want %d", got, 2*152)
	}
	for _, id := range []string{"def-pda1", "def-149", "DynType", "def-pda1" + oid4vci.LegacyConfigurationSuffix} {
		if _, ok := md.CredentialConfigurationsSupported[id]; !ok {
			t.Errorf("configuration %s missing", id)
		}
	}
	as, err := f.svc.AuthorizationServerMetadata()
	if err != nil || as.Issuer != walletIssuer || as.TokenEndpoint != walletIssuer+"/token" || !as.PreAuthorizedGrantAnonymousAccessSupported {
		t.Errorf("AS metadata %+v %v", as, err)
	}
	jv, err := f.svc.JWTVCIssuerMetadata()
	if err != nil || jv.Issuer != walletIssuer || len(jv.JWKS.Keys) != 1 || jv.JWKS.Keys[0]["kid"] != f.signer.KeyID() {
		t.Errorf("jwt-vc-issuer %+v %v", jv, err)
	}
	if _, ok := jv.JWKS.Keys[0]["d"]; ok {
		t.Error("private key published")
	}
	f.store.failOnce("ListDefinitions", errors.New("boom"))
	if _, err := f.svc.IssuerMetadata(context.Background()); err == nil {
		t.Error("store failure not reported")
	}
}

func TestMetadataSkipsUnusableDefinition(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	bad := f.def
	bad.ID = "def-bad"
	bad.VCT = ""
	f.store.define(bad)
	md, err := f.svc.IssuerMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := md.CredentialConfigurationsSupported["def-bad"]; ok {
		t.Error("unusable definition published")
	}
	if _, ok := md.CredentialConfigurationsSupported["def-pda1"]; !ok {
		t.Error("good definition dropped")
	}
}
