package wallet_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// encryptionParams is a draft 13 credential_response_encryption object for a fresh P-256 key.
func encryptionParams(t *testing.T) map[string]any {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwk.FromRaw(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(key)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"jwk": m, "alg": "ECDH-ES", "enc": "A256GCM"}
}

func encryptedRequest(t *testing.T, configID string, enc map[string]any, proofs ...string) *oid4vci.CredentialRequest {
	t.Helper()
	body, err := json.Marshal(map[string]any{"credential_configuration_id": configID,
		"proofs": map[string]any{"jwt": proofs}, "credential_response_encryption": enc})
	if err != nil {
		t.Fatal(err)
	}
	return parseCredentialRequest(t, body)
}

// Where the deployment or the definition requires encrypted responses, a request without
// credential_response_encryption is invalid_encryption_parameters and changes nothing; with it, the credential is
// issued and the record keeps alg, enc and the wallet's public JWK.
func TestResponseEncryptionRequired(t *testing.T) {
	for _, tc := range []struct {
		name       string
		deployment bool
		definition bool
	}{
		{"by the deployment", true, false},
		{"by the definition", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{ResponseEncryptionRequired: tc.deployment})
			f.def.EncryptionRequired = tc.definition
			f.store.redefine(f.def)
			offerID, rec := f.offer(exchange.ModeInTime, "", erika())
			tok := f.mustToken(offerID, "")
			h := newHolder(t)
			before := f.store.record(rec.CredentialExchangeID)
			_, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
				credentialRequest(t, f.def.ID, h.proof(t, f.nonce(), "", f.clock.Now())))
			if oauthCode(err) != oid4vci.ErrInvalidEncryptionParameters {
				t.Fatalf("clear request: %v", err)
			}
			if after := f.store.record(rec.CredentialExchangeID); after.Version != before.Version {
				t.Fatal("the refused request wrote the record")
			}
			enc := encryptionParams(t)
			ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
				encryptedRequest(t, f.def.ID, enc, h.proof(t, f.nonce(), "", f.clock.Now())))
			if err != nil || len(ans.Issuance.Credentials) != 1 {
				t.Fatalf("encrypted request: %+v, %v", ans, err)
			}
			got := f.store.record(rec.CredentialExchangeID).CredentialResponseEncryption
			if got["alg"] != "ECDH-ES" || got["enc"] != "A256GCM" || !reflect.DeepEqual(got["jwk"], enc["jwk"]) {
				t.Fatalf("recorded %v, want alg, enc and %v", got, enc["jwk"])
			}
			md, err := f.svc.IssuerMetadata(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if md.CredentialResponseEncryption == nil || md.CredentialResponseEncryption.EncryptionRequired != tc.deployment {
				t.Fatalf("issuer-wide credential_response_encryption %+v", md.CredentialResponseEncryption)
			}
			cfg := md.CredentialConfigurationsSupported[f.def.ID].CredentialResponseEncryption
			if tc.definition != (cfg != nil && cfg.EncryptionRequired) {
				t.Fatalf("configuration's credential_response_encryption %+v", cfg)
			}
		})
	}
}

// The deferred credential endpoint applies the same rule with the parameters of the deferred request, and records
// them with the pick-up.
func TestDeferredResponseEncryptionRequired(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	f.def.EncryptionRequired = true
	f.store.redefine(f.def)
	offerID, rec := f.offer(exchange.ModeDeferred, "")
	tok := f.mustToken(offerID, "")
	h := newHolder(t)
	ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
		encryptedRequest(t, f.def.ID, encryptionParams(t), h.proof(t, f.nonce(), "", f.clock.Now())))
	if err != nil || ans.Issuance.TransactionID == "" {
		t.Fatalf("deferral: %+v, %v", ans, err)
	}
	f.complete(rec.CredentialExchangeID, false, erika())
	txn := ans.Issuance.TransactionID
	_, err = f.svc.RequestDeferredCredential(context.Background(), wallet.Bearer(tok.AccessToken), &oid4vci.DeferredCredentialRequest{TransactionID: txn})
	if oauthCode(err) != oid4vci.ErrInvalidEncryptionParameters {
		t.Fatalf("clear deferred request: %v", err)
	}
	body, err := json.Marshal(map[string]any{"transaction_id": txn, "credential_response_encryption": encryptionParams(t)})
	if err != nil {
		t.Fatal(err)
	}
	dreq, err := oid4vci.ParseDeferredCredentialRequest(body, "application/json")
	if err != nil {
		t.Fatal(err)
	}
	done, err := f.svc.RequestDeferredCredential(context.Background(), wallet.Bearer(tok.AccessToken), dreq)
	if err != nil || len(done.Issuance.Credentials) != 1 {
		t.Fatalf("encrypted deferred request: %+v, %v", done, err)
	}
	got := f.store.record(rec.CredentialExchangeID).CredentialResponseEncryption
	if !reflect.DeepEqual(got, dreq.ResponseEncryption.Record()) {
		t.Fatalf("recorded %v, want the deferred request's %v", got, dreq.ResponseEncryption.Record())
	}
}
