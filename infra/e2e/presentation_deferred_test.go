package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// tokenFor redeems the code of a dynamic credential request and asks for the registration credential of
// configuration (a definition id); it returns the access token and the credential endpoint's answer.
func (f *vpFixture) tokenFor(code, configuration string) (string, *response) {
	f.t.Helper()
	tok := f.is.postForm("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {vpVerifier}, "redirect_uri": {vpRedirect}, "client_id": {vpClientID}})
	if tok.status != http.StatusOK {
		f.t.Fatalf("token: %d %s", tok.status, tok.raw)
	}
	access := tok.str("access_token")
	return access, f.is.postJSON("/credential", access, map[string]any{"credential_configuration_id": configuration,
		"proofs": map[string]any{"jwt": []string{f.holder.proof(f.t, f.is.url, f.is.cNonce())}}})
}

// completeFromPresentation is the organisation's backend: it reads the presented claims from the record and
// completes the Deferred exchange with a credential made from them; the wallet then picks it up.
func (f *vpFixture) completeFromPresentation(exID, access string, cred *response) {
	t := f.t
	t.Helper()
	if cred.status != http.StatusAccepted || cred.str("transaction_id") == "" {
		t.Fatalf("a Deferred exchange answers the credential request with 202 and a transaction_id: %d %s", cred.status, cred.raw)
	}
	rec := f.is.history(exID)
	holder, _ := rec["holder"].(map[string]any)
	claims, _ := holder["presentedClaims"].(map[string]any)
	list, _ := claims["employee"].([]any)
	if len(list) != 1 || rec["issuanceMode"] != "Deferred" {
		t.Fatalf("record %v", rec)
	}
	employer, _ := list[0].(map[string]any)["employer"].(string)
	put := f.is.admin(http.MethodPut, "/credential/history/"+exID, map[string]any{
		"credential": map[string]any{"credentialSubject": map[string]any{"company": employer + " Holding"}}})
	if put.status != http.StatusOK {
		t.Fatalf("complete: %d %s", put.status, put.raw)
	}
	r := f.is.postJSON("/deferred-credential", access, map[string]any{"transaction_id": cred.str("transaction_id")})
	if r.status != http.StatusOK {
		t.Fatalf("deferred credential: %d %s", r.status, r.raw)
	}
	issued := r.json["credentials"].([]any)[0].(map[string]any)["credential"].(string)
	v, err := sdjwt.Verify(issued, sdjwt.WithIssuerKeySet(jwksOf(t, f.is)))
	if err != nil || v.Claims["company"] != "ACME Holding" {
		t.Fatalf("credential: %v %v", err, v)
	}
}

// TestDynamicCredentialRequestDeferredAndWalletInitiated: the seed's backend processing over HTTP. A Deferred
// dynamic credential request: the holder presents, the wallet waits with a transaction_id, the organisation reads
// the presented claims from the record and completes the exchange with a credential made from them, the wallet
// picks it up. And a wallet-initiated request for a definition with presentationDefinitionId: no offer, the
// wallet pushes the definition's scope, presents instead of an ID token, and the Deferred exchange it creates
// carries the presented claims for the organisation to complete from.
func TestDynamicCredentialRequestDeferredAndWalletInitiated(t *testing.T) {
	f := newVPFixture(t, false)
	t.Run("Deferred", func(t *testing.T) {
		exID, link := f.is.issue(map[string]any{"issuanceMode": "Deferred", "credentialDefinitionId": f.registrationDef,
			"presentationDefinitionId": f.pdID})
		offer := f.is.do(http.MethodGet, offerURI(t, link), nil)
		ac, _ := offer.json["grants"].(map[string]any)["authorization_code"].(map[string]any)
		s := f.begin(ac["issuer_state"].(string))
		q := s.answer(s.present(f.own, f.holder.priv, s.clientID, s.nonce, nil))
		access, cred := f.tokenFor(q.Get("code"), f.registrationDef)
		f.completeFromPresentation(exID, access, cred)
	})
	t.Run("wallet-initiated", func(t *testing.T) {
		s := f.beginFor("", f.walletInitiatedDef)
		q := s.answer(s.present(f.own, f.holder.priv, s.clientID, s.nonce, nil))
		access, cred := f.tokenFor(q.Get("code"), f.walletInitiatedDef)
		list := f.is.admin(http.MethodGet, "/credential/history?credentialDefinitionId="+f.walletInitiatedDef, nil)
		items, _ := list.json["credentialHistory"].([]any)
		if len(items) != 1 {
			t.Fatalf("wallet-initiated exchanges: %s", list.raw)
		}
		rec, _ := items[0].(map[string]any)
		if rec["presentationDefinitionId"] != f.pdID {
			t.Fatalf("wallet-initiated record %v", rec)
		}
		f.completeFromPresentation(rec["credentialExchangeId"].(string), access, cred)
	})
}
