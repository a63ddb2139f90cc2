package wallet_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

func TestFetchOffer(t *testing.T) {
	tests := []struct {
		name     string
		pin      string
		prepare  func(f *walletFixture, offerID string) string // returns the offer id to fetch
		wantErr  bool
		wantTx   bool
		fetchTwo bool
	}{
		{name: "first fetch", prepare: func(_ *walletFixture, id string) string { return id }},
		{name: "with tx_code", pin: "4821", wantTx: true, prepare: func(_ *walletFixture, id string) string { return id }},
		{name: "repeated fetch is idempotent", fetchTwo: true, prepare: func(_ *walletFixture, id string) string { return id }},
		{name: "unknown offer", wantErr: true, prepare: func(_ *walletFixture, _ string) string { return "unknown" }},
		{name: "empty offer id", wantErr: true, prepare: func(_ *walletFixture, _ string) string { return "" }},
		{name: "overlong offer id", wantErr: true, prepare: func(_ *walletFixture, _ string) string { return strings.Repeat("a", 300) }},
		{name: "expired offer", wantErr: true, prepare: func(f *walletFixture, id string) string {
			f.clock.Advance(8 * 24 * time.Hour)
			return id
		}},
		{name: "redeemed offer", wantErr: true, prepare: func(f *walletFixture, id string) string {
			f.mustToken(id, "")
			return id
		}},
		{name: "forged offer id naming the exchange", wantErr: true, prepare: func(f *walletFixture, id string) string {
			return exchangeOf(f.t, id) + "." + forged
		}},
		{name: "the code as offer id", wantErr: true, prepare: func(_ *walletFixture, id string) string {
			return exchange.PreAuthorizedCode(id)
		}},
		{name: "offer of a deleted exchange", wantErr: true, prepare: func(f *walletFixture, id string) string {
			f.store.DropExchange(exchangeOf(f.t, id))
			return id
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			offerID, rec := f.offer(exchange.ModeInTime, tc.pin, erika())
			fetchID := tc.prepare(f, offerID)
			offer, err := f.svc.FetchOffer(context.Background(), fetchID)
			if tc.wantErr {
				if !errors.Is(err, exchange.ErrNotFound) {
					t.Fatalf("err = %v, want ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if offer.CredentialIssuer != walletIssuer || len(offer.CredentialConfigurationIDs) != 1 ||
				offer.CredentialConfigurationIDs[0] != f.def.ID {
				t.Errorf("offer = %+v", offer)
			}
			g := offer.Grants.PreAuthorizedCode
			if g == nil || g.PreAuthorizedCode != exchange.PreAuthorizedCode(offerID) {
				t.Fatalf("grant = %+v", g)
			}
			if tc.wantTx != (g.TxCode != nil) {
				t.Errorf("tx_code = %+v, want present %v", g.TxCode, tc.wantTx)
			}
			if tc.wantTx && (g.TxCode.InputMode != "numeric" || g.TxCode.Length != 4 || g.TxCode.Description == "") {
				t.Errorf("tx_code = %+v", g.TxCode)
			}
			got := f.store.record(rec.CredentialExchangeID)
			if got.Status != exchange.StatusOfferReceived || got.Version != 2 {
				t.Errorf("status %s version %d, want offer_received 2", got.Status, got.Version)
			}
			if tc.fetchTwo {
				if _, err := f.svc.FetchOffer(context.Background(), fetchID); err != nil {
					t.Fatal(err)
				}
				if v := f.store.record(rec.CredentialExchangeID).Version; v != 2 {
					t.Errorf("second fetch wrote the record: version %d", v)
				}
			}
			if ev := f.events.DetailTypes(); len(ev) != 1 || ev[0] != "credential.offer_received" {
				t.Errorf("events = %v", ev)
			}
		})
	}
}

func TestFetchOfferOfDeniedExchange(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{MaxTxCodeAttempts: 1})
	offerID, _ := f.offer(exchange.ModeInTime, "1234", erika())
	if _, err := f.token(offerID, "9999"); oauthCode(err) != oid4vci.ErrInvalidGrant {
		t.Fatalf("err = %v", err)
	}
	if _, err := f.svc.FetchOffer(context.Background(), offerID); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestRedeemPreAuthorizedCode(t *testing.T) {
	tests := []struct {
		name     string
		pin      string
		mode     exchange.IssuanceMode
		form     func(offerID string) url.Values
		prepare  func(f *walletFixture, offerID string)
		wantCode string
		wantTTL  time.Duration
		attempts int
	}{
		{name: "no tx_code", wantTTL: wallet.DefaultAccessTokenTTL},
		{name: "right tx_code", pin: "4821", form: txForm("tx_code", "4821"), wantTTL: wallet.DefaultAccessTokenTTL},
		{name: "draft-12 user_pin", pin: "a-b.c", form: txForm("user_pin", "a-b.c"), wantTTL: wallet.DefaultAccessTokenTTL},
		{name: "deferred exchange gets a long token", mode: exchange.ModeDeferred, wantTTL: wallet.DefaultDeferredAccessTokenTTL},
		{name: "missing tx_code", pin: "4821", wantCode: oid4vci.ErrInvalidRequest},
		{name: "unexpected tx_code", form: txForm("tx_code", "4821"), wantCode: oid4vci.ErrInvalidRequest},
		{name: "wrong tx_code", pin: "4821", form: txForm("tx_code", "0000"), wantCode: oid4vci.ErrInvalidGrant, attempts: 1},
		{name: "wrong user_pin", pin: "4821", form: txForm("user_pin", "0000"), wantCode: oid4vci.ErrInvalidGrant, attempts: 1},
		{name: "unknown code", form: func(string) url.Values {
			return url.Values{"grant_type": {oid4vci.GrantTypePreAuthorizedCode}, "pre-authorized_code": {"nope"}}
		}, wantCode: oid4vci.ErrInvalidGrant},
		{name: "expired code", prepare: func(f *walletFixture, _ string) { f.clock.Advance(8 * 24 * time.Hour) },
			wantCode: oid4vci.ErrInvalidGrant},
		{name: "used code", prepare: func(f *walletFixture, id string) { f.mustToken(id, "") },
			wantCode: oid4vci.ErrInvalidGrant},
		{name: "forged code naming the exchange", form: func(offerID string) url.Values {
			return url.Values{"pre-authorized_code": {exchangeOf(t, offerID) + "." + forged}}
		}, wantCode: oid4vci.ErrInvalidGrant},
		{name: "the offer id as code", form: func(offerID string) url.Values {
			return url.Values{"pre-authorized_code": {offerID}}
		}, wantCode: oid4vci.ErrInvalidGrant},
		{name: "code whose single-use guard is gone", prepare: func(f *walletFixture, id string) {
			f.store.DropPointer(exchange.PointerKey(exchange.PointerCode, exchange.PreAuthorizedCode(id)))
		}, wantCode: oid4vci.ErrInvalidGrant},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			mode := tc.mode
			if mode == "" {
				mode = exchange.ModeInTime
			}
			offerID, rec := f.offer(mode, tc.pin, erika())
			if tc.prepare != nil {
				tc.prepare(f, offerID)
			}
			form := url.Values{"grant_type": {oid4vci.GrantTypePreAuthorizedCode},
				"pre-authorized_code": {exchange.PreAuthorizedCode(offerID)}}
			if tc.form != nil {
				for k, v := range tc.form(offerID) {
					form[k] = v
				}
			}
			req, err := oid4vci.ParseTokenRequest(form.Encode(), "application/x-www-form-urlencoded")
			if err != nil {
				t.Fatal(err)
			}
			resp, err := f.svc.RedeemPreAuthorizedCode(context.Background(), req, nil)
			if tc.wantCode != "" {
				if oauthCode(err) != tc.wantCode {
					t.Fatalf("err = %v, want %s", err, tc.wantCode)
				}
				if strings.Contains(err.Error(), exchange.PreAuthorizedCode(offerID)) || (tc.pin != "" && strings.Contains(err.Error(), tc.pin)) {
					t.Errorf("error leaks a secret: %v", err)
				}
				if tc.attempts > 0 {
					if got := f.store.record(rec.CredentialExchangeID).TxCode.Attempts; got != tc.attempts {
						t.Errorf("attempts = %d, want %d", got, tc.attempts)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.TokenType != "Bearer" || len(resp.AccessToken) < 43 || resp.CNonce == "" {
				t.Errorf("response = %+v", resp)
			}
			if resp.ExpiresIn != int(tc.wantTTL/time.Second) || resp.CNonceExpiresIn != int(wallet.DefaultNonceTTL/time.Second) {
				t.Errorf("expires_in %d c_nonce_expires_in %d", resp.ExpiresIn, resp.CNonceExpiresIn)
			}
			got := f.store.record(rec.CredentialExchangeID)
			if got.Status != exchange.StatusOfferReceived {
				t.Errorf("status = %s", got.Status)
			}
			if id, ok := exchange.SecretExchangeID(resp.AccessToken); !ok || id != rec.CredentialExchangeID ||
				!exchange.SecretMatches(resp.AccessToken, got.AccessTokenHash) {
				t.Errorf("access token does not name its exchange or its hash is not in the record")
			}
			if want := f.clock.Now().Add(tc.wantTTL).Unix(); got.AccessTokenExpiresAt != want {
				t.Errorf("access token deadline %d, want %d", got.AccessTokenExpiresAt, want)
			}
			if strings.Contains(string(mustStored(t, got)), resp.AccessToken) {
				t.Errorf("the record holds the access token in the clear")
			}
			// The token's c_nonce is stateless: nothing stored for it (docs/security.md, "Nonce endpoint writes").
			if _, err := f.store.GetPointer(context.Background(), exchange.PointerKey(exchange.PointerNonce, resp.CNonce)); !errors.Is(err, exchange.ErrNotFound) {
				t.Errorf("c_nonce pointer stored: %v", err)
			}
			if _, err := f.store.GetPointer(context.Background(), exchange.PointerKey(exchange.PointerCode, exchange.PreAuthorizedCode(offerID))); !errors.Is(err, exchange.ErrNotFound) {
				t.Errorf("code pointer still there: %v", err)
			}
		})
	}
}

func txForm(name, value string) func(string) url.Values {
	return func(string) url.Values { return url.Values{name: {value}} }
}

func TestTxCodeAttemptCap(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	offerID, rec := f.offer(exchange.ModeInTime, "4821", erika())
	for i := 1; i <= wallet.DefaultMaxTxCodeAttempts; i++ {
		_, err := f.token(offerID, "0000")
		if oauthCode(err) != oid4vci.ErrInvalidGrant {
			t.Fatalf("attempt %d: %v", i, err)
		}
		last := strings.Contains(err.Error(), "last attempt")
		if last != (i == wallet.DefaultMaxTxCodeAttempts) {
			t.Errorf("attempt %d: %v", i, err)
		}
	}
	got := f.store.record(rec.CredentialExchangeID)
	if got.Status != exchange.StatusIssuanceDenied || got.IssuanceDeniedReason != wallet.TxCodeAttemptsExhaustedReason {
		t.Fatalf("status %s reason %q", got.Status, got.IssuanceDeniedReason)
	}
	if _, err := f.token(offerID, "4821"); oauthCode(err) != oid4vci.ErrInvalidGrant {
		t.Fatalf("right code after the cap: %v", err)
	}
	if ev := f.events.DetailTypes(); len(ev) != 1 || ev[0] != "credential.issuance_denied" {
		t.Errorf("events = %v", ev)
	}
}

func TestAuthorizationDetails(t *testing.T) {
	tests := []struct {
		name     string
		config   string
		wantCode string
	}{
		{name: "offered configuration", config: "def-pda1"},
		{name: "draft-13 twin", config: "def-pda1" + oid4vci.LegacyConfigurationSuffix},
		{name: "other configuration", config: "other", wantCode: oid4vci.ErrInvalidAuthorizationDetails},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			offerID, _ := f.offer(exchange.ModeInTime, "", erika())
			form := url.Values{"grant_type": {oid4vci.GrantTypePreAuthorizedCode},
				"pre-authorized_code":   {exchange.PreAuthorizedCode(offerID)},
				"authorization_details": {`[{"type":"openid_credential","credential_configuration_id":"` + tc.config + `"}]`}}
			req, err := oid4vci.ParseTokenRequest(form.Encode(), "application/x-www-form-urlencoded")
			if err != nil {
				t.Fatal(err)
			}
			resp, err := f.svc.RedeemPreAuthorizedCode(context.Background(), req, nil)
			if oauthCode(err) != tc.wantCode {
				t.Fatalf("err = %v, want %q", err, tc.wantCode)
			}
			if tc.wantCode != "" {
				return
			}
			if len(resp.AuthorizationDetails) != 1 || resp.AuthorizationDetails[0].CredentialIdentifiers[0] != tc.config {
				t.Fatalf("authorization_details = %+v", resp.AuthorizationDetails)
			}
			h := newHolder(t)
			body := []byte(`{"credential_identifier":"` + tc.config + `","proofs":{"jwt":["` +
				h.proof(t, f.nonce(), "", f.clock.Now()) + `"]}}`)
			if _, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(resp.AccessToken), parseCredentialRequest(t, body)); err != nil {
				t.Fatalf("credential by identifier: %v", err)
			}
		})
	}
}

// TestRedeemConcurrently: many parallel redemptions of one code, exactly one access token.
func TestRedeemConcurrently(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	offerID, rec := f.offer(exchange.ModeInTime, "4821", erika())
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, grants := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.token(offerID, "4821")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case oauthCode(err) == oid4vci.ErrInvalidGrant:
				grants++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || grants != n-1 {
		t.Fatalf("wins %d invalid_grant %d, want 1 and %d", wins, grants, n-1)
	}
	if got := f.store.record(rec.CredentialExchangeID); got.Status != exchange.StatusOfferReceived || got.AccessTokenHash == "" {
		t.Errorf("status %s, access token hash %q", got.Status, got.AccessTokenHash)
	}
	if c := f.store.pointerCount(exchange.PointerNonce + "#"); c != 0 {
		t.Errorf("%d token c_nonces stored, want none (stateless)", c)
	}
}

// TestWrongTxCodeConcurrently: parallel wrong guesses are all counted, and the cap holds.
func TestWrongTxCodeConcurrently(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{MaxTxCodeAttempts: 100})
	offerID, rec := f.offer(exchange.ModeInTime, "4821", erika())
	const n = 20
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.token(offerID, "0000"); oauthCode(err) != oid4vci.ErrInvalidGrant {
				t.Errorf("err = %v", err)
			}
		}()
	}
	wg.Wait()
	// Contention beyond the retry bound would surface as an error above; every answered guess is counted.
	if got := f.store.record(rec.CredentialExchangeID).TxCode.Attempts; got != n {
		t.Errorf("attempts = %d, want %d", got, n)
	}
}

func TestNewNonce(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{NonceTTL: time.Minute})
	a, err := f.svc.NewNonce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.NewNonce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.Value == b.Value || len(a.Value) < 43 || a.ExpiresInSeconds != 60 {
		t.Fatalf("nonces %+v %+v", a, b)
	}
	// Stateless (docs/security.md, "Nonce endpoint writes"): nothing is stored, so a store failure cannot fail it.
	if _, err := f.store.GetPointer(context.Background(), exchange.PointerKey(exchange.PointerNonce, a.Value)); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("nonce stored: %v", err)
	}
	f.store.failOnce("PutPointer", errors.New("boom"))
	if _, err := f.svc.NewNonce(context.Background()); err != nil {
		t.Fatalf("the nonce endpoint touched the store: %v", err)
	}
}
