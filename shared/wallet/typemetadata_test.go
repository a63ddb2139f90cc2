package wallet_test

import (
	"context"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// TestTypeIntegrityMatchesTheServedDocument: a credential's vct#integrity is the digest of the type metadata
// document served at its vct when the credential is issued (docs/security.md 14d). Before, it was computed from the
// exchange's definition snapshot, so a credential issued after the definition changed (an offer made before a PUT),
// by an older definition naming the same vct, or by an exchange without a definition whose type is a hosted vct,
// carried a digest of a document nobody serves, and every verifier that checks it (@sd-jwt/sd-jwt-vc resolving type
// metadata) refused the type metadata of a credential the issuer had just issued.
func TestTypeIntegrityMatchesTheServedDocument(t *testing.T) {
	ctx := context.Background()
	const name = "pda1"
	vct := walletIssuer + oid4vci.TypeMetadataPath + name
	issue := func(t *testing.T, f *walletFixture) map[string]any {
		t.Helper()
		offerID, _ := f.offer(exchange.ModeInTime, "", erika())
		tok := f.mustToken(offerID, "")
		h := newHolder(t)
		configID := f.def.ID
		if configID == "" {
			configID = f.def.VCT
		}
		ans, err := f.svc.RequestCredential(ctx, wallet.Bearer(tok.AccessToken),
			credentialRequest(t, configID, h.proof(t, f.nonce(), "", f.clock.Now())))
		if err != nil {
			t.Fatalf("credential: %v", err)
		}
		v, err := sdjwt.Verify(ans.Issuance.Credentials[0], sdjwt.WithIssuerKey(f.signer.PublicJWK()), sdjwt.WithClock(f.clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		return v.Claims
	}
	served := func(t *testing.T, f *walletFixture) string {
		t.Helper()
		docs, err := f.svc.TypeMetadataDocuments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		doc, ok := docs[name]
		if !ok {
			return ""
		}
		return oid4vci.Integrity(doc)
	}
	hosted := func(t *testing.T) *walletFixture {
		t.Helper()
		f := newWalletFixture(t, wallet.Config{})
		stored := f.store.mustDefinition(t, f.def.ID)
		stored.VCT = vct
		f.store.redefine(stored)
		f.def = f.store.mustDefinition(t, f.def.ID)
		return f
	}

	t.Run("the stored definition", func(t *testing.T) {
		f := hosted(t)
		if got, want := issue(t, f)["vct#integrity"], served(t, f); want == "" || got != want {
			t.Errorf("vct#integrity %v, served document %s", got, want)
		}
	})
	t.Run("the definition changed after the offer", func(t *testing.T) {
		f := hosted(t)
		offered := f.def
		changed := f.store.mustDefinition(t, f.def.ID)
		changed.Label = "Portable Document A1, second edition"
		f.store.redefine(changed)
		f.def = offered // the exchange keeps the snapshot of the offer
		if got, want := issue(t, f)["vct#integrity"], served(t, f); want == "" || got != want {
			t.Errorf("vct#integrity %v, served document %s", got, want)
		}
	})
	t.Run("an exchange without a definition whose type is the hosted vct", func(t *testing.T) {
		f := hosted(t)
		f.def = definition.Definition{Spec: definition.Spec{Label: vct, CredentialFormat: definition.FormatSDJWT, VCT: vct}}
		if got, want := issue(t, f)["vct#integrity"], served(t, f); want == "" || got != want {
			t.Errorf("vct#integrity %v, served document %s", got, want)
		}
	})
	t.Run("a hosted vct no definition names", func(t *testing.T) {
		f := newWalletFixture(t, wallet.Config{})
		f.def = definition.Definition{Spec: definition.Spec{Label: vct, CredentialFormat: definition.FormatSDJWT, VCT: vct}}
		if got, ok := issue(t, f)["vct#integrity"]; ok || served(t, f) != "" {
			t.Errorf("vct#integrity %v for a vct whose address serves nothing", got)
		}
	})
}

// mustDefinition reads a stored definition.
func (m *walletMem) mustDefinition(t *testing.T, id string) definition.Definition {
	t.Helper()
	d, err := m.Store.GetDefinition(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
