package wallet_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/clientattest"
	"github.com/sdjwt-issuer/issuer/shared/dpop"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// redeem sends an authorization_code token request; kv override the form (code, code_verifier, redirect_uri,
// client_id), "-" removes one.
func (w *authzWallet) redeem(code string, client *wallet.Client, kv ...string) (*oid4vci.TokenResponse, error) {
	w.f.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {pkceVerifier},
		"redirect_uri": {walletRedirect}, "client_id": {w.client}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			form.Del(kv[i])
		} else {
			form.Set(kv[i], kv[i+1])
		}
	}
	req, err := oid4vci.ParseTokenRequest(form.Encode(), "application/x-www-form-urlencoded")
	if err != nil {
		return nil, err
	}
	return w.f.svc.RedeemAuthorizationCode(context.Background(), req, client)
}

// credential asks for the credential with the access token, naming it by credential_identifier when the token
// response granted one.
func (w *authzWallet) credential(tok *oid4vci.TokenResponse) (*wallet.CredentialAnswer, error) {
	id := w.f.def.ConfigurationID()
	body := `{"credential_configuration_id":"` + id + `","proofs":{"jwt":["` + w.h.proof(w.f.t, w.f.nonce(), "", w.f.clock.Now()) + `"]}}`
	if len(tok.AuthorizationDetails) > 0 {
		body = `{"credential_identifier":"` + tok.AuthorizationDetails[0].CredentialIdentifiers[0] + `","proofs":{"jwt":["` +
			w.h.proof(w.f.t, w.f.nonce(), "", w.f.clock.Now()) + `"]}}`
	}
	return w.f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken), parseCredentialRequest(w.f.t, []byte(body)))
}

// offerCode runs the flow of an offer up to the authorization code.
func (w *authzWallet) offerCode(kv ...string) (code string, rec exchange.Record) {
	w.f.t.Helper()
	offerID, rec := w.f.offer(exchange.ModeInTime, "", erika())
	resp := w.code(append([]string{"issuer_state", exchange.IssuerState(offerID)}, kv...)...)
	return resp.Get("code"), rec
}

func TestAuthorizationCodeGrant(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	w := f.authzWallet()
	offerID, rec := f.offer(exchange.ModeInTime, "", erika())
	code := w.code("issuer_state", exchange.IssuerState(offerID), "scope", "-", "authorization_details",
		`[{"type":"openid_credential","credential_configuration_id":"`+f.def.ConfigurationID()+`"}]`).Get("code")
	tok, err := w.redeem(code, nil)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if tok.TokenType != oid4vci.TokenTypeBearer || tok.AccessToken == "" || len(tok.AuthorizationDetails) != 1 ||
		tok.AuthorizationDetails[0].CredentialIdentifiers[0] != f.def.ConfigurationID() {
		t.Fatalf("token response %+v", tok)
	}
	got := f.store.record(rec.CredentialExchangeID)
	if got.IsPreAuthorised || got.AuthorizationCode.CodeHash != "" || got.AuthorizationCode.UsedCodeHash != exchange.HashSecret(code) ||
		got.AccessTokenHash != exchange.HashSecret(tok.AccessToken) {
		t.Fatalf("record after the token: %+v", got)
	}
	// Secrets at rest: the code, the access token and the offer's issuer_state only as hashes.
	raw := string(f.store.RawExchange(rec.CredentialExchangeID))
	for name, secret := range map[string]string{"code": code, "access token": tok.AccessToken,
		"issuer_state": exchange.IssuerState(offerID)} {
		if strings.Contains(raw, secret) {
			t.Errorf("the stored record holds the %s in the clear", name)
		}
	}
	ans, err := w.credential(tok)
	if err != nil {
		t.Fatalf("credential by credential_identifier: %v", err)
	}
	f.verifyBound(ans.Issuance.Credentials[0], w.h)
	if got := f.store.record(rec.CredentialExchangeID); got.Status != exchange.StatusCredentialIssued || !got.IDTokenVerified {
		t.Fatalf("record after the credential: %+v", got)
	}
}

func TestAuthorizationCodeScopeRequestHasNoDetails(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	w := f.authzWallet()
	code, _ := w.offerCode()
	tok, err := w.redeem(code, nil)
	if err != nil || len(tok.AuthorizationDetails) != 0 {
		t.Fatalf("token %+v, %v", tok, err)
	}
	if _, err := w.credential(tok); err != nil {
		t.Fatalf("credential by credential_configuration_id: %v", err)
	}
}

func TestAuthorizationCodeGrantRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		kv     []string
		client func(w *authzWallet) *wallet.Client
		code   string
	}{
		"PKCE mismatch":          {kv: []string{"code_verifier", "a-completely-different-verifier-of-enough-length-0123"}, code: oid4vci.ErrInvalidGrant},
		"malformed verifier":     {kv: []string{"code_verifier", "short"}, code: oid4vci.ErrInvalidRequest},
		"wrong redirect_uri":     {kv: []string{"redirect_uri", "https://attacker.example/cb"}, code: oid4vci.ErrInvalidGrant},
		"no redirect_uri":        {kv: []string{"redirect_uri", "-"}, code: oid4vci.ErrInvalidGrant},
		"another client":         {kv: []string{"client_id", "other-client"}, code: oid4vci.ErrInvalidGrant},
		"no client":              {kv: []string{"client_id", "-"}, code: oid4vci.ErrInvalidRequest},
		"made-up code":           {kv: []string{"code", "not-a-code"}, code: oid4vci.ErrInvalidGrant},
		"code of no exchange":    {kv: []string{"code", "00000000-0000-4000-8000-000000000000.x"}, code: oid4vci.ErrInvalidGrant},
		"pre-authorized code as": {kv: []string{"grant_type", oid4vci.GrantTypePreAuthorizedCode}, code: oid4vci.ErrInvalidRequest},
	} {
		t.Run(name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			w := f.authzWallet()
			code, rec := w.offerCode()
			before := f.store.record(rec.CredentialExchangeID)
			var client *wallet.Client
			if tc.client != nil {
				client = tc.client(w)
			}
			_, err := w.redeem(code, client, tc.kv...)
			if oauthCode(err) != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
			if got := f.store.record(rec.CredentialExchangeID); got.Version != before.Version {
				t.Fatalf("a refused token request changed the record")
			}
			// The code still works for its rightful client: a wrong guess does not burn it.
			if _, err := w.redeem(code, nil); err != nil {
				t.Fatalf("the right request after a refused one: %v", err)
			}
		})
	}
}

func TestAuthorizationCodeExpires(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	w := f.authzWallet()
	code, _ := w.offerCode()
	f.clock.Advance(wallet.DefaultAuthorizationCodeTTL + time.Second)
	if _, err := w.redeem(code, nil); oauthCode(err) != oid4vci.ErrInvalidGrant {
		t.Fatalf("expired code: %v", err)
	}
}

func TestReplayedAuthorizationCodeRevokesItsToken(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	w := f.authzWallet()
	code, rec := w.offerCode()
	tok, err := w.redeem(code, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.redeem(code, nil)
	if oauthCode(err) != oid4vci.ErrInvalidGrant {
		t.Fatalf("replayed code: %v", err)
	}
	if got := f.store.record(rec.CredentialExchangeID); got.AccessTokenHash != "" {
		t.Fatal("the token of a replayed code is still stored")
	}
	if _, err := w.credential(tok); oauthCode(err) != oid4vci.ErrInvalidToken {
		t.Fatalf("credential with the revoked token: %v", err)
	}
	// A replay after that changes nothing more and still fails.
	if _, err := w.redeem(code, nil); oauthCode(err) != oid4vci.ErrInvalidGrant {
		t.Fatalf("third use: %v", err)
	}
}

// TestReplayedCodeRevokesOnlyWithProofOfPossession: a used code is no secret (a browser history, a referrer, a
// log). Before, presenting it again revoked the token it gave before anything else was checked, so whoever saw
// the code could end the holder's session without the PKCE code_verifier. Now a replay revokes only when it
// proves it holds the code as the first redemption had to (redirect_uri, code_verifier, the code's DPoP key);
// otherwise it is invalid_grant and the record is unchanged (docs/security.md 14g).
func TestReplayedCodeRevokesOnlyWithProofOfPossession(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	w := f.authzWallet()
	jkt := oid4vci.PKCEChallenge("dpop-key")
	right := &wallet.Client{ClientID: w.client, DPoP: &dpop.Proof{Key: &jwtverify.PublicKey{Thumbprint: jkt}}}
	other := &wallet.Client{ClientID: w.client, DPoP: &dpop.Proof{Key: &jwtverify.PublicKey{Thumbprint: oid4vci.PKCEChallenge("other")}}}
	code, rec := w.offerCode("dpop_jkt", jkt)
	if _, err := w.redeem(code, right); err != nil {
		t.Fatal(err)
	}
	spent := f.store.record(rec.CredentialExchangeID)
	for name, tc := range map[string]struct {
		client *wallet.Client
		kv     []string
		want   string
	}{
		"no code_verifier":    {client: right, kv: []string{"code_verifier", "-"}, want: oid4vci.ErrInvalidRequest},
		"wrong code_verifier": {client: right, kv: []string{"code_verifier", "a-completely-different-verifier-of-enough-length-0123"}},
		"wrong redirect_uri":  {client: right, kv: []string{"redirect_uri", "https://attacker.example/cb"}},
		"no DPoP proof":       {client: nil},
		"another DPoP key":    {client: other},
		"another client":      {client: right, kv: []string{"client_id", "other-client"}},
	} {
		want := tc.want
		if want == "" {
			want = oid4vci.ErrInvalidGrant
		}
		if _, err := w.redeem(code, tc.client, tc.kv...); oauthCode(err) != want {
			t.Errorf("%s: %v, want %s", name, err, want)
		}
		if got := f.store.record(rec.CredentialExchangeID); got.Version != spent.Version || got.AccessTokenHash == "" {
			t.Fatalf("%s: a replay without proof of possession changed the record (token revoked: %t)", name,
				got.AccessTokenHash == "")
		}
	}
	// The code's holder replaying it (a retry, or the victim after a thief who had the verifier): revoked.
	if _, err := w.redeem(code, right); oauthCode(err) != oid4vci.ErrInvalidGrant {
		t.Fatalf("replay by the code's holder: %v", err)
	}
	if got := f.store.record(rec.CredentialExchangeID); got.AccessTokenHash != "" {
		t.Fatal("a replay with proof of possession left the token alive")
	}
}

func TestConcurrentAuthorizationCodeRedemption(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	w := f.authzWallet()
	code, rec := w.offerCode()
	const n = 8
	var wg sync.WaitGroup
	tokens := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tok, err := w.redeem(code, nil); err == nil {
				tokens <- tok.AccessToken
			}
		}()
	}
	wg.Wait()
	close(tokens)
	var won []string
	for tok := range tokens {
		won = append(won, tok)
	}
	if len(won) != 1 {
		t.Fatalf("%d token requests won with one code", len(won))
	}
	// Every loser presented a redeemed code (a second use, RFC 6749 section 4.1.2): the winner's token is revoked.
	if got := f.store.record(rec.CredentialExchangeID); got.AccessTokenHash != "" {
		t.Fatal("concurrent uses of one code left its token alive")
	}
}

func TestDPoPBoundAuthorizationCode(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	w := f.authzWallet()
	jkt := oid4vci.PKCEChallenge("dpop-key") // any base64url SHA-256 value names a key
	code, _ := w.offerCode("dpop_jkt", jkt)
	var de *dpop.Error
	if _, err := w.redeem(code, nil); !errors.As(err, &de) || de.Code != dpop.ErrInvalidProof {
		t.Fatalf("no DPoP proof: %v", err)
	}
	other := &wallet.Client{ClientID: w.client, DPoP: &dpop.Proof{Key: &jwtverify.PublicKey{Thumbprint: oid4vci.PKCEChallenge("other")}}}
	if _, err := w.redeem(code, other); !errors.As(err, &de) {
		t.Fatalf("another DPoP key: %v", err)
	}
	right := &wallet.Client{ClientID: w.client, DPoP: &dpop.Proof{Key: &jwtverify.PublicKey{Thumbprint: jkt}}}
	tok, err := w.redeem(code, right)
	if err != nil || tok.TokenType != oid4vci.TokenTypeDPoP {
		t.Fatalf("DPoP-bound token: %+v, %v", tok, err)
	}
}

func TestAuthorizationCodeFollowsTheDefinitionsClientPolicy(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	yes := true
	f.def.RequireDPoP = &yes
	w := f.authzWallet()
	// PAR needs DPoP already (TestPARRefusesAWalletWithoutDPoPWhenTheDefinitionRequiresIt); the token too.
	code, _ := w.offerCode("dpop_jkt", oid4vci.PKCEChallenge("k"))
	var de *dpop.Error
	if _, err := w.redeem(code, nil); !errors.As(err, &de) {
		t.Fatalf("a definition that requires DPoP, a bearer token request: %v", err)
	}
	f.def.RequireDPoP = nil
	f.def.RequireClientAttestation = true
	offerID, _ := f.offer(exchange.ModeInTime, "", erika())
	if _, err := f.authzWallet().push("issuer_state", exchange.IssuerState(offerID)); oauthCode(err) != oid4vci.ErrInvalidClient {
		t.Fatalf("PAR without the attestation the definition requires: %v", err)
	}
}

func TestWalletInitiatedDeferredFlow(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	open := f.def
	open.ID, open.VCT, open.WalletInitiated = "open-pda1", "OpenPDA1", true
	f.store.define(open)
	w := f.authzWallet()
	code := w.code("scope", "open-pda1").Get("code")
	tok, err := w.redeem(code, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := exchange.SecretExchangeID(code)
	f.def = open
	ans, err := w.credential(tok)
	if err != nil || ans.Issuance.TransactionID == "" {
		t.Fatalf("a pending wallet-initiated exchange answers with a transaction_id: %+v, %v", ans, err)
	}
	f.complete(id, false, erika())
	if got := f.store.record(id); got.CredentialStatus != exchange.CredentialReady {
		t.Fatalf("after completion: %+v", got)
	}
	md, err := f.svc.IssuerMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !md.CredentialConfigurationsSupported["open-pda1"].WalletInitiated ||
		md.CredentialConfigurationsSupported["def-pda1"].WalletInitiated {
		t.Fatal("the metadata does not say which configurations a wallet may request on its own")
	}
}

func TestFailedClientAttestationDeniesAnAuthorizationCodeExchange(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	w := f.authzWallet()
	code, rec := w.offerCode()
	failed := &wallet.Client{ClientID: w.client, AttestationFailure: &clientattest.Error{Kind: clientattest.Untrusted,
		Description: "the client attestation signature does not verify"}}
	if _, err := w.redeem(code, failed); oauthCode(err) != oid4vci.ErrInvalidClient {
		t.Fatalf("failed attestation: %v", err)
	}
	got := f.store.record(rec.CredentialExchangeID)
	if got.Status != exchange.StatusIssuanceDenied || got.AccessTokenHash != "" {
		t.Fatalf("record %+v", got)
	}
	if _, err := w.redeem(code, nil); oauthCode(err) != oid4vci.ErrInvalidGrant {
		t.Fatalf("the code of a denied exchange: %v", err)
	}
}

// TestFailedClientAttestationOfAWalletWithoutClientID: a HAIP wallet identifies itself by its client attestation
// alone (attest_jwt_client_auth; no client_id parameter at the token endpoint). When that attestation fails, the
// authorization_code grant answers as the pre-authorized code grant does: invalid_client with the reason, the
// exchange denied (docs/security.md 14f). Before, it was invalid_request "client_id is required", the exchange kept,
// and the wallet never learnt why. A client_id that names another client is still invalid_grant.
func TestFailedClientAttestationOfAWalletWithoutClientID(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	w := f.authzWallet()
	code, rec := w.offerCode()
	failed := &wallet.Client{AttestationFailure: &clientattest.Error{Kind: clientattest.Expired,
		Description: "the client attestation has expired (exp)"}}
	if _, err := w.redeem(code, failed, "client_id", "another-client"); oauthCode(err) != oid4vci.ErrInvalidGrant {
		t.Fatalf("failed attestation with another client's client_id: %v", err)
	}
	_, err := w.redeem(code, failed, "client_id", "-")
	var oe *oid4vci.Error
	if !errors.As(err, &oe) || oe.Code != oid4vci.ErrInvalidClient || !strings.Contains(oe.Description, "expired") {
		t.Fatalf("failed attestation without client_id: %v", err)
	}
	got := f.store.record(rec.CredentialExchangeID)
	if got.Status != exchange.StatusIssuanceDenied || got.AccessTokenHash != "" ||
		!strings.Contains(got.IssuanceDeniedReason, "expired") {
		t.Fatalf("record %+v", got)
	}
}
