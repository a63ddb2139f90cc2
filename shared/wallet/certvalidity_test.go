package wallet_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// certifiedFixture is formatFixture with the signing key certified under a root whose leaf ends at leafNotAfter
// (as ISSUER_CERT_CHAIN configures it).
func certifiedFixture(t *testing.T, def definition.Definition, leafNotAfter time.Time) *walletFixture {
	t.Helper()
	f := newWalletFixture(t, wallet.Config{})
	now := f.clock.Now()
	root, err := issuercert.NewCA("Root", now.AddDate(-1, 0, 0), now.AddDate(20, 0, 0), issuercert.WithCountry("DE"))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := root.Issue(f.signer.CryptoSigner(context.Background()).Public(), issuercert.Subject{IssuerURL: walletIssuer,
		Country: "DE"}, now.Add(-time.Hour), leafNotAfter)
	if err != nil {
		t.Fatal(err)
	}
	certified, err := keys.Certify(f.signer, issuercert.PEM(leaf, root.Cert), walletIssuer, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := wallet.New(wallet.Config{IssuerURL: walletIssuer}, wallet.Deps{Store: f.store, Signer: certified},
		exchange.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if def.ID != f.def.ID {
		f.store.define(def)
	}
	f.svc, f.def = svc, def
	return f
}

// credentialExpiry issues one credential of the fixture's definition and returns its exp (mdoc: validUntil).
func (f *walletFixture) credentialExpiry(subject map[string]any) time.Time {
	f.t.Helper()
	offerID, _ := f.offer(exchange.ModeInTime, "", subject)
	tok := f.mustToken(offerID, "")
	h := newHolder(f.t)
	ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
		credentialRequest(f.t, f.def.ID, h.proof(f.t, f.nonce(), "", f.clock.Now())))
	if err != nil {
		f.t.Fatal(err)
	}
	cred := ans.Issuance.Credentials[0]
	var exp any
	switch f.def.CredentialFormat {
	case definition.FormatMdoc:
		return f.verifyMdoc(cred, h).ValidUntil
	case definition.FormatJWTVC:
		exp = f.verifyJWTVC(cred, h).Claims["exp"]
	default:
		exp = f.verifyBound(cred, h).Claims["exp"]
	}
	switch v := exp.(type) {
	case float64:
		return time.Unix(int64(v), 0)
	case json.Number:
		sec, err := v.Int64()
		if err != nil {
			f.t.Fatalf("exp %v: %v", exp, err)
		}
		return time.Unix(sec, 0)
	}
	f.t.Fatalf("exp %#v", exp)
	return time.Time{}
}

// TestCredentialValidityEndsWithTheIssuerCertificate (issue 16): under ISSUER_CERT_CHAIN, a credential's exp (an
// mdoc's validUntil) never outlives the leaf certificate that signs it: a verifier that validates the x5c chain
// refuses the credential once the leaf expired, whatever exp says. Before, exp was issuance + expirationInDays,
// days or months past the leaf. A leaf that outlives the definition's expiry changes nothing.
func TestCredentialValidityEndsWithTheIssuerCertificate(t *testing.T) {
	sdjwtDef := newWalletFixture(t, wallet.Config{}).def
	for _, tc := range []struct {
		def     definition.Definition
		subject map[string]any
	}{
		{sdjwtDef, erika()},
		{employeeDefinition(), employeeSubject()},
		{mdlDefinition(), mdlSubject()},
	} {
		t.Run(tc.def.CredentialFormat, func(t *testing.T) {
			start := time.Now().Truncate(time.Second)
			leafEnd := start.AddDate(0, 0, 10).UTC().Truncate(time.Second)
			f := certifiedFixture(t, tc.def, leafEnd)
			if got := f.credentialExpiry(tc.subject); !got.Equal(leafEnd) {
				t.Errorf("a leaf valid 10 more days, a definition of %d days: exp %v, want the leaf's NotAfter %v",
					tc.def.ExpirationInDays, got.UTC(), leafEnd)
			}
			f = certifiedFixture(t, tc.def, start.AddDate(11, 0, 0))
			if got, want := f.credentialExpiry(tc.subject), f.clock.Now().AddDate(0, 0, tc.def.ExpirationInDays); !got.Equal(want) {
				t.Errorf("a leaf that outlives the definition's expiry: exp %v, want %v", got.UTC(), want.UTC())
			}
		})
	}
}
