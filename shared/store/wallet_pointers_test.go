package store_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/wallettest"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/store"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

const walletStoreIssuer = "http://127.0.0.1:3000"

type walletStoreFixture struct {
	st    *store.Store
	clock *clock
	svc   *wallet.Service
}

func newWalletStoreFixture(t *testing.T) *walletStoreFixture {
	t.Helper()
	base := newFixtureAt(t, time.Now().Truncate(time.Second))
	st, c := base.st, base.clock
	signer, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := wallet.New(wallet.Config{IssuerURL: walletStoreIssuer}, wallet.Deps{Store: st, Signer: signer},
		exchange.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	return &walletStoreFixture{st: st, clock: c, svc: svc}
}

// offer stores an InTime exchange with its CODE pointer, as the admin side does.
func (f *walletStoreFixture) offer(t *testing.T, pin string) (string, exchange.Record) {
	t.Helper()
	id, _ := exchange.NewID(rand.Reader)
	offerID, _ := exchange.NewExchangeSecret(rand.Reader, id)
	now := f.clock.now()
	exp := now.Add(time.Hour).Unix()
	code := exchange.PreAuthorizedCode(offerID)
	def := definition.Definition{ID: "def-1", Spec: definition.Spec{Label: "Test",
		CredentialFormat: "dc+sd-jwt", VCT: "TestCredential", ExpirationInDays: 30,
		Claims: []definition.Claim{{Path: []any{"given_name"}, LimitDisclosure: true}}}}
	rec := exchange.Record{CredentialExchangeID: id, IssuanceMode: exchange.ModeInTime, IsPreAuthorised: true,
		CredentialOffer: exchange.OfferDeepLink(exchange.SchemeOpenIDCredentialOffer, exchange.OfferURL(walletStoreIssuer, offerID)),
		Status:          exchange.StatusOfferSent, CreatedAt: now.Unix(), UpdatedAt: now.Unix(), CredentialDefinitionID: def.ID,
		Version: 1, ExpiresAt: now.Add(24 * time.Hour).Unix(), CreatedNanos: now.UnixNano(),
		Definition: def, ConfigurationID: def.ID, CredentialType: []string{def.VCT}, OfferIDHash: exchange.HashSecret(offerID),
		CodeHash: exchange.HashSecret(code), OfferExpiresAt: exp}
	rec.SetCredentials([]exchange.CredentialPayload{{CredentialSubject: map[string]any{"given_name": "Erika", "age": json.Number("42")}}})
	if pin != "" {
		tx, err := exchange.NewTxCode(rand.Reader, pin)
		if err != nil {
			t.Fatal(err)
		}
		rec.TxCode = tx
	}
	ptrs := []exchange.Pointer{{Key: exchange.PointerKey(exchange.PointerCode, code), ExchangeID: id, ExpiresAt: exp}}
	for _, p := range ptrs {
		rec.Pointers = append(rec.Pointers, p.Key)
	}
	if err := f.st.CreateExchange(context.Background(), rec, ptrs); err != nil {
		t.Fatal(err)
	}
	return offerID, rec
}

func (f *walletStoreFixture) token(offerID, pin string) (*oid4vci.TokenResponse, error) {
	req, err := wallettest.TokenRequest(offerID, pin)
	if err != nil {
		return nil, err
	}
	return f.svc.RedeemPreAuthorizedCode(context.Background(), req, nil)
}

func storeProof(t *testing.T, nonce string, now time.Time) string {
	t.Helper()
	priv, pub := wallettest.NewHolderKey(t)
	return wallettest.SignProof(t, priv, pub, map[string]any{"aud": walletStoreIssuer, "iat": now.Unix(), "nonce": nonce})
}

// TestWalletStore runs the pointer operations and the wallet use cases against DynamoDB Local: conditional
// writes and transactions decide single use, not the use case code.
func TestWalletStore(t *testing.T) {
	f := newWalletStoreFixture(t)
	ctx := context.Background()

	t.Run("pointer round trip and expiry", func(t *testing.T) {
		p := exchange.Pointer{Key: exchange.PointerKey(exchange.PointerTransaction, "txn-1"), ExchangeID: "ex-1",
			ExpiresAt: f.clock.now().Add(time.Minute).Unix(), Attributes: map[string]string{"dialect": "v1", "keys": "[]"}}
		if err := f.st.PutPointer(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := f.st.GetPointer(ctx, p.Key)
		if err != nil || got.ExchangeID != "ex-1" || got.ExpiresAt != p.ExpiresAt || got.Attributes["dialect"] != "v1" || got.Attributes["keys"] != "[]" {
			t.Fatalf("got %+v %v", got, err)
		}
		if err := f.st.PutPointer(ctx, p); !errors.Is(err, exchange.ErrAlreadyExists) {
			t.Fatalf("duplicate put: %v", err)
		}
		if _, err := f.st.GetPointer(ctx, "NONCE#unknown"); !errors.Is(err, exchange.ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		f.clock.add(2 * time.Minute)
		if _, err := f.st.GetPointer(ctx, p.Key); !errors.Is(err, exchange.ErrNotFound) {
			t.Fatalf("expired pointer read: %v", err)
		}
		p.ExpiresAt = f.clock.now().Add(time.Minute).Unix()
		if err := f.st.PutPointer(ctx, p); err != nil {
			t.Fatalf("expired leftover not replaced: %v", err)
		}
		if err := f.st.PutPointer(ctx, exchange.Pointer{}); err == nil {
			t.Fatal("empty key accepted")
		}
	})

	t.Run("full flow", func(t *testing.T) {
		offerID, rec := f.offer(t, "4821")
		if _, err := f.svc.FetchOffer(ctx, offerID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.token(offerID, "0000"); wallettest.OAuthCode(err) != oid4vci.ErrInvalidGrant {
			t.Fatalf("wrong tx_code: %v", err)
		}
		tok, err := f.token(offerID, "4821")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.FetchOffer(ctx, offerID); !errors.Is(err, exchange.ErrNotFound) {
			t.Fatalf("redeemed offer still served: %v", err)
		}
		n, err := f.svc.NewNonce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		req, err := oid4vci.ParseCredentialRequest([]byte(`{"credential_configuration_id":"def-1","proofs":{"jwt":["`+
			storeProof(t, n.Value, f.clock.now())+`","`+storeProof(t, n.Value, f.clock.now())+`"]}}`), "application/json", 10)
		if err != nil {
			t.Fatal(err)
		}
		ans, err := f.svc.RequestCredential(ctx, wallet.Bearer(tok.AccessToken), req)
		if err != nil || len(ans.Issuance.Credentials) != 2 {
			t.Fatalf("credential: %+v %v", ans, err)
		}
		if err := f.svc.Notify(ctx, wallet.Bearer(tok.AccessToken), &oid4vci.NotificationRequest{NotificationID: ans.Issuance.NotificationID,
			Event: oid4vci.EventCredentialAccepted}); err != nil {
			t.Fatal(err)
		}
		got, err := f.st.GetExchange(ctx, rec.CredentialExchangeID)
		if err != nil || got.Status != exchange.StatusCredentialAccepted || got.TxCode.Attempts != 1 || got.CredentialToken == "" {
			t.Fatalf("record %s attempts %d, %v", got.Status, got.TxCode.Attempts, err)
		}
		// every pointer created on the way (the code's guard, the token's c_nonce) is known to the record, so
		// DeleteExchange removes it; the access token and notification id live as hashes in the record
		if len(got.Pointers) != 2 || got.AccessTokenHash == "" || got.NotificationIDHash == "" {
			t.Errorf("record knows %d pointers, token hash %v, notification hash %v", len(got.Pointers),
				got.AccessTokenHash != "", got.NotificationIDHash != "")
		}
		if err := f.st.DeleteExchange(ctx, rec.CredentialExchangeID); err != nil {
			t.Fatal(err)
		}
		for _, k := range got.Pointers {
			if _, err := f.st.GetPointer(ctx, k); !errors.Is(err, exchange.ErrNotFound) {
				t.Errorf("pointer %s survives the deletion: %v", k[:5], err)
			}
		}
		if err := f.svc.Notify(ctx, wallet.Bearer(tok.AccessToken), &oid4vci.NotificationRequest{NotificationID: ans.Issuance.NotificationID,
			Event: oid4vci.EventCredentialDeleted}); wallettest.OAuthCode(err) != oid4vci.ErrInvalidToken {
			t.Errorf("access token after the deletion: %v", err)
		}
	})

	t.Run("concurrent redemptions of one code", func(t *testing.T) {
		offerID, _ := f.offer(t, "")
		const n = 16
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, invalid := 0, 0
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.token(offerID, "")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case wallettest.OAuthCode(err) == oid4vci.ErrInvalidGrant:
					invalid++
				default:
					t.Errorf("unexpected: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 || invalid != n-1 {
			t.Fatalf("wins %d invalid_grant %d", wins, invalid)
		}
	})

	t.Run("concurrent credential requests with one nonce", func(t *testing.T) {
		offerID, rec := f.offer(t, "")
		tok, err := f.token(offerID, "")
		if err != nil {
			t.Fatal(err)
		}
		nonce, err := f.svc.NewNonce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		reqs := make([]*oid4vci.CredentialRequest, n)
		for i := range reqs {
			reqs[i], err = oid4vci.ParseCredentialRequest([]byte(`{"credential_configuration_id":"def-1","proofs":{"jwt":["`+
				storeProof(t, nonce.Value, f.clock.now())+`"]}}`), "application/json", 10)
			if err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for _, req := range reqs {
			wg.Add(1)
			go func(req *oid4vci.CredentialRequest) {
				defer wg.Done()
				_, err := f.svc.RequestCredential(ctx, wallet.Bearer(tok.AccessToken), req)
				mu.Lock()
				defer mu.Unlock()
				switch wallettest.OAuthCode(err) {
				case "":
					if err != nil {
						t.Errorf("internal: %v", err)
						return
					}
					wins++
				case oid4vci.ErrInvalidNonce, oid4vci.ErrCredentialRequestDenied:
				default:
					t.Errorf("unexpected: %v", err)
				}
			}(req)
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d credential answers, want 1", wins)
		}
		got, err := f.st.GetExchange(ctx, rec.CredentialExchangeID)
		if err != nil || got.Status != exchange.StatusCredentialIssued {
			t.Fatalf("record %s %v", got.Status, err)
		}
	})
}
