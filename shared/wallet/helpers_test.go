package wallet_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/internal/wallettest"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

const walletIssuer = "https://issuer.example.com/tenant"

type walletFixture struct {
	t      *testing.T
	clock  *domaintest.Clock
	store  *walletMem
	signer *keys.LocalSigner
	svc    *wallet.Service
	events *domaintest.Events
	def    definition.Definition
}

func newWalletFixture(t *testing.T, cfg wallet.Config) *walletFixture {
	t.Helper()
	clock := domaintest.NewClock(time.Now().Truncate(time.Second))
	signer, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	cfg.IssuerURL = walletIssuer
	ev := &domaintest.Events{}
	store := newWalletMem(clock.Now, ev)
	svc, err := wallet.New(cfg, wallet.Deps{Store: store, Signer: signer}, exchange.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	def := definition.Definition{ID: "def-pda1", Spec: definition.Spec{
		Label: "Portable Document A1", CredentialFormat: definition.FormatSDJWT, VCT: "PortableDocumentA1",
		ExpirationInDays: 365, Claims: []definition.Claim{
			{Path: []any{"given_name"}, Mandatory: true, LimitDisclosure: true},
			{Path: []any{"address"}, LimitDisclosure: true},
			{Path: []any{"address", "street_address"}, LimitDisclosure: true},
		}, Display: []definition.Display{{Name: "Portable Document A1", Locale: "en-GB"}}}}
	store.define(def)
	return &walletFixture{t: t, clock: clock, store: store, signer: signer, svc: svc, events: ev, def: def}
}

// offer seeds an exchange as the admin IssueCredential stores it and returns its offer id.
func (f *walletFixture) offer(mode exchange.IssuanceMode, pin string, subjects ...map[string]any) (string, exchange.Record) {
	f.t.Helper()
	id, err := exchange.NewID(rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	offerID, err := exchange.NewExchangeSecret(rand.Reader, id)
	if err != nil {
		f.t.Fatal(err)
	}
	now := f.clock.Now()
	exp := now.Add(7 * 24 * time.Hour).Unix()
	code := exchange.PreAuthorizedCode(offerID)
	configurationID := f.def.ConfigurationID()
	if configurationID == "" {
		configurationID = f.def.VCT // an exchange without a definition: its vct names the configuration
	}
	rec := exchange.Record{CredentialExchangeID: id, IssuanceMode: mode, IsPreAuthorised: true,
		CredentialOffer: exchange.OfferDeepLink(exchange.SchemeOpenIDCredentialOffer, exchange.OfferURL(walletIssuer, offerID)),
		Status:          exchange.StatusOfferSent, CreatedAt: now.Unix(), UpdatedAt: now.Unix(),
		CredentialDefinitionID: f.def.ID, CredentialFormat: f.def.CredentialFormat,
		Version: 1, ExpiresAt: now.Add(30 * 24 * time.Hour).Unix(),
		Definition: f.def, ConfigurationID: configurationID, CredentialType: []string{f.def.VCT},
		OfferIDHash: exchange.HashSecret(offerID), CodeHash: exchange.HashSecret(code), OfferExpiresAt: exp}
	var payloads []exchange.CredentialPayload
	for _, s := range subjects {
		payloads = append(payloads, exchange.CredentialPayload{CredentialSubject: s})
	}
	rec.SetCredentials(payloads)
	if pin != "" {
		tx, err := exchange.NewTxCode(rand.Reader, pin)
		if err != nil {
			f.t.Fatal(err)
		}
		rec.TxCode = tx
	} else {
		rec.IssuerStateHash = exchange.HashSecret(exchange.IssuerState(offerID))
	}
	f.store.seed(rec, exchange.Pointer{Key: exchange.PointerKey(exchange.PointerCode, code), ExchangeID: id, ExpiresAt: exp})
	return offerID, f.store.record(id)
}

func erika() map[string]any {
	return map[string]any{"given_name": "Erika", "family_name": "Mustermann",
		"address": map[string]any{"street_address": "Heidestrasse 17", "locality": "Koeln"}}
}

// token redeems the offer's code with a tx_code form value (pin "" sends none).
func (f *walletFixture) token(offerID, pin string) (*oid4vci.TokenResponse, error) {
	req, err := wallettest.TokenRequest(offerID, pin)
	if err != nil {
		return nil, err
	}
	return f.svc.RedeemPreAuthorizedCode(context.Background(), req, nil)
}

func (f *walletFixture) mustToken(offerID, pin string) *oid4vci.TokenResponse {
	f.t.Helper()
	resp, err := f.token(offerID, pin)
	if err != nil {
		f.t.Fatalf("token: %v", err)
	}
	return resp
}

func (f *walletFixture) nonce() string {
	f.t.Helper()
	n, err := f.svc.NewNonce(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return n.Value
}

// holder is a wallet key.
type holder struct {
	priv *ecdsa.PrivateKey
	pub  jwk.Key
}

func newHolder(t *testing.T) holder {
	t.Helper()
	priv, pub := wallettest.NewHolderKey(t)
	return holder{priv: priv, pub: pub}
}

// proof signs a key proof JWT; aud "" means the issuer.
func (h holder) proof(t *testing.T, nonce, aud string, iat time.Time) string {
	t.Helper()
	if aud == "" {
		aud = walletIssuer
	}
	claims := map[string]any{"aud": aud, "iat": iat.Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return wallettest.SignProof(t, h.priv, h.pub, claims)
}

// credentialRequest parses a 1.0 request for the fixture's configuration with the given proofs.
func credentialRequest(t *testing.T, configID string, proofs ...string) *oid4vci.CredentialRequest {
	t.Helper()
	body, err := json.Marshal(map[string]any{"credential_configuration_id": configID,
		"proofs": map[string]any{"jwt": proofs}})
	if err != nil {
		t.Fatal(err)
	}
	return parseCredentialRequest(t, body)
}

func parseCredentialRequest(t *testing.T, body []byte) *oid4vci.CredentialRequest {
	t.Helper()
	req, err := oid4vci.ParseCredentialRequest(body, "application/json", wallet.MaxBatchSize)
	if err != nil {
		t.Fatalf("parse credential request: %v", err)
	}
	return req
}

// verifyBound verifies an issued credential with the issuer key and checks its cnf is the holder's key.
func (f *walletFixture) verifyBound(cred string, h holder) *sdjwt.Verified {
	f.t.Helper()
	v, err := sdjwt.Verify(cred, sdjwt.WithIssuerKey(f.signer.PublicJWK()), sdjwt.WithClock(f.clock.Now))
	if err != nil {
		f.t.Fatalf("verify credential: %v", err)
	}
	if v.Header["kid"] != f.signer.KeyID() {
		f.t.Errorf("kid = %v, want %s", v.Header["kid"], f.signer.KeyID())
	}
	if v.Claims["iss"] != walletIssuer {
		f.t.Errorf("iss = %v", v.Claims["iss"])
	}
	cnf, _ := v.Claims["cnf"].(map[string]any)
	got, err := json.Marshal(cnf["jwk"])
	if err != nil {
		f.t.Fatal(err)
	}
	k, err := jwk.ParseKey(got)
	if err != nil {
		f.t.Fatalf("cnf.jwk: %v", err)
	}
	a, _ := keys.Thumbprint(k)
	b, _ := keys.Thumbprint(h.pub)
	if a != b {
		f.t.Errorf("credential bound to %s, want holder key %s", a, b)
	}
	return v
}

// oauthCode is the OAuth error code of err ("" when it is not an *oid4vci.Error).
func oauthCode(err error) string { return wallettest.OAuthCode(err) }

func splitCredentials(token string) []string {
	if token == "" {
		return nil
	}
	return strings.Split(token, exchange.CredentialTokenSeparator)
}
