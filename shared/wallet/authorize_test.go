package wallet_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/dpop"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/wallettest"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

const (
	walletRedirect = "https://wallet.example/cb"
	pkceVerifier   = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// authzWallet is a wallet running the authorization code flow against the fixture's service.
type authzWallet struct {
	f      *walletFixture
	h      holder
	client string
}

func (f *walletFixture) authzWallet() *authzWallet {
	return &authzWallet{f: f, h: newHolder(f.t), client: "wallet-client"}
}

// push sends a pushed authorization request; kv are form parameters over the defaults (scope of the fixture's
// definition, PKCE S256, state), "-" removes one.
func (w *authzWallet) push(kv ...string) (*oid4vci.PushedAuthorizationResponse, error) {
	w.f.t.Helper()
	return w.pushWith(nil, kv...)
}

// pushWith is push with what AuthenticateClient learned from the request's headers (nil: nothing).
func (w *authzWallet) pushWith(client *wallet.Client, kv ...string) (*oid4vci.PushedAuthorizationResponse, error) {
	w.f.t.Helper()
	form := url.Values{"response_type": {"code"}, "client_id": {w.client}, "redirect_uri": {walletRedirect},
		"code_challenge": {oid4vci.PKCEChallenge(pkceVerifier)}, "code_challenge_method": {"S256"},
		"scope": {w.f.def.ConfigurationID()}, "state": {"wallet-state"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			form.Del(kv[i])
		} else {
			form.Set(kv[i], kv[i+1])
		}
	}
	req, err := oid4vci.ParsePushedAuthorizationRequest(form.Encode(), "application/x-www-form-urlencoded", walletIssuer)
	if err != nil {
		return nil, err
	}
	return w.f.svc.PushAuthorizationRequest(context.Background(), req, client)
}

func (w *authzWallet) mustPush(kv ...string) string {
	w.f.t.Helper()
	resp, err := w.push(kv...)
	if err != nil {
		w.f.t.Fatalf("PAR: %v", err)
	}
	if !strings.HasPrefix(resp.RequestURI, oid4vci.RequestURIPrefix) || resp.ExpiresIn != 60 {
		w.f.t.Fatalf("PAR response %+v", resp)
	}
	return resp.RequestURI
}

func (w *authzWallet) authorize(requestURI string) (url.Values, error) {
	step, err := w.f.svc.Authorize(context.Background(), &oid4vci.AuthorizationEndpointRequest{ClientID: w.client, RequestURI: requestURI})
	if err != nil {
		return nil, err
	}
	return redirectQuery(w.f.t, step)
}

// redirectQuery checks that step goes to the wallet's redirect_uri and returns its query.
func redirectQuery(t *testing.T, step *wallet.AuthorizationStep) (url.Values, error) {
	t.Helper()
	u, err := url.Parse(step.RedirectURL)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != walletRedirect {
		t.Fatalf("redirect to %q, want the wallet's redirect_uri", step.RedirectURL)
	}
	return u.Query(), nil
}

// idTokenRequest checks the ID token request of an authorization redirect: its parameters and the signed request
// object that repeats them.
func (w *authzWallet) idTokenRequest(q url.Values) (nonce, state string) {
	t := w.f.t
	t.Helper()
	for k, want := range map[string]string{"response_type": "id_token", "response_mode": "direct_post",
		"client_id": walletIssuer, "redirect_uri": walletIssuer + "/direct_post", "scope": "openid"} {
		if q.Get(k) != want {
			t.Fatalf("%s = %q, want %q (query %v)", k, q.Get(k), want, q)
		}
	}
	payload, err := jws.Verify([]byte(q.Get("request")), jws.WithKey(jwa.ES256, w.f.signer.PublicJWK()))
	if err != nil {
		t.Fatalf("request object: %v", err)
	}
	msg, _ := jws.Parse([]byte(q.Get("request")))
	if typ := msg.Signatures()[0].ProtectedHeaders().Type(); typ != "oauth-authz-req+jwt" {
		t.Fatalf("request object typ %q", typ)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["nonce"] != q.Get("nonce") || claims["state"] != q.Get("state") || claims["aud"] != w.client ||
		claims["iss"] != walletIssuer || claims["response_type"] != "id_token" {
		t.Fatalf("request object claims %v", claims)
	}
	return q.Get("nonce"), q.Get("state")
}

// idToken signs the holder's ID token for nonce; over changes claims.
func (w *authzWallet) idToken(nonce string, over map[string]any) string {
	now := w.f.clock.Now()
	c := map[string]any{"aud": walletIssuer, "nonce": nonce, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	for k, v := range over {
		c[k] = v
	}
	return wallettest.SignIDToken(w.f.t, w.h.priv, w.h.pub, c)
}

func (w *authzWallet) post(form url.Values) (url.Values, error) {
	w.f.t.Helper()
	resp, err := oid4vci.ParseHolderResponse(form.Encode(), "application/x-www-form-urlencoded", 64<<10)
	if err != nil {
		return nil, err
	}
	step, err := w.f.svc.RespondToHolderRequest(context.Background(), resp)
	if err != nil {
		return nil, err
	}
	if step.InBody {
		w.f.t.Fatal("the answer to an ID token is the 302 of EWC RFC001, not a redirect_uri in a body")
	}
	return redirectQuery(w.f.t, step)
}

// code runs PAR, the authorization endpoint and the ID token answer, and returns the authorization response.
func (w *authzWallet) code(kv ...string) url.Values {
	w.f.t.Helper()
	q, err := w.authorize(w.mustPush(kv...))
	if err != nil {
		w.f.t.Fatalf("authorize: %v", err)
	}
	nonce, state := w.idTokenRequest(q)
	resp, err := w.post(url.Values{"id_token": {w.idToken(nonce, nil)}, "state": {state}})
	if err != nil {
		w.f.t.Fatalf("direct_post: %v", err)
	}
	return resp
}

func TestAuthorizationCodeOfAnOffer(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	offerID, rec := f.offer(exchange.ModeInTime, "", erika())
	offer, err := f.svc.FetchOffer(context.Background(), offerID)
	if err != nil {
		t.Fatal(err)
	}
	if offer.Grants.AuthorizationCode == nil || offer.Grants.AuthorizationCode.IssuerState != exchange.IssuerState(offerID) ||
		offer.Grants.PreAuthorizedCode == nil {
		t.Fatalf("offer grants %+v", offer.Grants)
	}
	w := f.authzWallet()
	resp := w.code("issuer_state", offer.Grants.AuthorizationCode.IssuerState)
	code := resp.Get("code")
	if id, ok := exchange.SecretExchangeID(code); !ok || id != rec.CredentialExchangeID {
		t.Fatalf("code %q does not name the exchange", code)
	}
	if resp.Get("state") != "wallet-state" || resp.Get("iss") != walletIssuer {
		t.Fatalf("authorization response %v", resp)
	}
	got := f.store.record(rec.CredentialExchangeID)
	if got.IsPreAuthorised || got.ClientID != w.client || got.Status != exchange.StatusOfferReceived ||
		got.IssuerStateHash != "" || got.CodeHash != "" || got.AuthorizationCode == nil ||
		got.AuthorizationCode.CodeHash != exchange.HashSecret(code) {
		t.Fatalf("record after the code: %+v", got)
	}
	did := wallettest.DIDJWK(t, w.h.pub)
	if got.Holder["id"] != did || got.Holder["authenticatedWith"] != "id_token" || !got.IDTokenVerified ||
		got.IDToken == "" || got.IDTokenDecoded["payload"].(map[string]any)["sub"] != did {
		t.Fatalf("holder %v, ID token verified %v, decoded %v", got.Holder, got.IDTokenVerified, got.IDTokenDecoded)
	}
	// One grant per offer: the pre-authorized code and the offer are gone.
	if _, err := f.token(offerID, ""); oauthCode(err) != oid4vci.ErrInvalidGrant {
		t.Fatalf("pre-authorized code after the authorization code grant: %v", err)
	}
	if _, err := f.svc.FetchOffer(context.Background(), offerID); err == nil {
		t.Fatal("the offer is still served")
	}
	if f.store.pointerCount(exchange.PointerPushedRequest) != 0 || f.store.pointerCount(exchange.PointerAuthorization) != 0 ||
		f.store.pointerCount(exchange.PointerCode) != 0 {
		t.Fatal("pointers left behind")
	}
	// The offer fetch moved the record to offer_received already: the code changes no status and publishes nothing.
	if n := len(f.events.DetailTypes()); n != 1 {
		t.Fatalf("events %v", f.events.DetailTypes())
	}
}

func TestAuthorizationRefusals(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	offerID, _ := f.offer(exchange.ModeInTime, "", erika())
	state := exchange.IssuerState(offerID)
	pinOfferID, _ := f.offer(exchange.ModeInTime, "4821", erika())
	w := f.authzWallet()

	for name, tc := range map[string]struct {
		kv   []string
		code string
	}{
		"foreign issuer_state":        {[]string{"issuer_state", exchange.IssuerState(pinOfferID)}, oid4vci.ErrInvalidRequest},
		"made-up issuer_state":        {[]string{"issuer_state", "not-a-state"}, oid4vci.ErrInvalidRequest},
		"issuer_state of another id":  {[]string{"issuer_state", strings.Replace(state, state[:8], "00000000", 1)}, oid4vci.ErrInvalidRequest},
		"configuration not offered":   {[]string{"issuer_state", state, "scope", "other"}, oid4vci.ErrInvalidScope},
		"details not offered":         {[]string{"issuer_state", state, "scope", "-", "authorization_details", `[{"type":"openid_credential","credential_configuration_id":"other"}]`}, oid4vci.ErrInvalidAuthorizationDetails},
		"no wallet-initiated":         {[]string{"issuer_state", "-"}, oid4vci.ErrInvalidScope},
		"two configurations":          {[]string{"issuer_state", state, "scope", "a b"}, oid4vci.ErrInvalidScope},
		"scope and details disagree":  {[]string{"issuer_state", state, "authorization_details", `[{"type":"openid_credential","credential_configuration_id":"other"}]`}, oid4vci.ErrInvalidScope},
		"unknown wallet-initiated id": {[]string{"scope", "nope"}, oid4vci.ErrInvalidScope},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := w.push(tc.kv...)
			if oauthCode(err) != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
	if n := f.store.pointerCount(exchange.PointerPushedRequest); n != 0 {
		t.Fatalf("%d pushed requests stored by refused requests", n)
	}

	t.Run("replayed request_uri", func(t *testing.T) {
		uri := w.mustPush("issuer_state", state)
		if _, err := w.authorize(uri); err != nil {
			t.Fatal(err)
		}
		if _, err := w.authorize(uri); oauthCode(err) != oid4vci.ErrInvalidRequest {
			t.Fatalf("second use: %v", err)
		}
	})
	t.Run("expired request_uri", func(t *testing.T) {
		uri := w.mustPush("issuer_state", state)
		f.clock.Advance(61 * time.Second)
		if _, err := w.authorize(uri); oauthCode(err) != oid4vci.ErrInvalidRequest {
			t.Fatalf("expired: %v", err)
		}
	})
	t.Run("another client's request_uri", func(t *testing.T) {
		uri := w.mustPush("issuer_state", state)
		other := *w
		other.client = "other-client"
		if _, err := other.authorize(uri); oauthCode(err) != oid4vci.ErrInvalidRequest {
			t.Fatalf("other client: %v", err)
		}
	})
	t.Run("made-up request_uri", func(t *testing.T) {
		if _, err := w.authorize(oid4vci.RequestURIPrefix + "made-up"); oauthCode(err) != oid4vci.ErrInvalidRequest {
			t.Fatalf("made up: %v", err)
		}
	})
}

func TestHolderAuthenticationRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		form func(w *authzWallet, nonce, state string) url.Values
		desc string
	}{
		"wrong nonce": {func(w *authzWallet, _, state string) url.Values {
			return url.Values{"id_token": {w.idToken("another-nonce", nil)}, "state": {state}}
		}, "nonce"},
		"wrong aud": {func(w *authzWallet, nonce, state string) url.Values {
			return url.Values{"id_token": {w.idToken(nonce, map[string]any{"aud": "https://other.example"})}, "state": {state}}
		}, "aud"},
		"expired": {func(w *authzWallet, nonce, state string) url.Values {
			return url.Values{"id_token": {w.idToken(nonce, map[string]any{"exp": w.f.clock.Now().Add(-time.Hour).Unix()})}, "state": {state}}
		}, "expired"},
		"iss is not sub": {func(w *authzWallet, nonce, state string) url.Values {
			return url.Values{"id_token": {w.idToken(nonce, map[string]any{"iss": "https://idp.example"})}, "state": {state}}
		}, "self-issued"},
		"signed by another key": {func(w *authzWallet, nonce, state string) url.Values {
			other := newHolder(w.f.t)
			did := wallettest.DIDJWK(w.f.t, w.h.pub)
			now := w.f.clock.Now()
			tok := wallettest.SignIDToken(w.f.t, other.priv, other.pub, map[string]any{"iss": did, "sub": did,
				"aud": walletIssuer, "nonce": nonce, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
			return url.Values{"id_token": {tok}, "state": {state}}
		}, "DID in sub"},
		"no id_token": {func(_ *authzWallet, _, state string) url.Values {
			return url.Values{"state": {state}}
		}, "id_token is required"},
		"wallet declined": {func(_ *authzWallet, _, state string) url.Values {
			return url.Values{"error": {"access_denied"}, "state": {state}}
		}, "declined"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			offerID, rec := f.offer(exchange.ModeInTime, "", erika())
			w := f.authzWallet()
			q, err := w.authorize(w.mustPush("issuer_state", exchange.IssuerState(offerID)))
			if err != nil {
				t.Fatal(err)
			}
			nonce, state := w.idTokenRequest(q)
			resp, err := w.post(tc.form(w, nonce, state))
			if err != nil {
				t.Fatalf("a refused ID token must be redirected: %v", err)
			}
			if resp.Get("error") != oid4vci.ErrAccessDenied || !strings.Contains(resp.Get("error_description"), tc.desc) ||
				resp.Get("state") != "wallet-state" || resp.Get("iss") != walletIssuer || resp.Has("code") {
				t.Fatalf("error response %v", resp)
			}
			got := f.store.record(rec.CredentialExchangeID)
			if got.Version != rec.Version || got.IDToken != "" || got.AuthorizationCode != nil {
				t.Fatalf("a refused authentication changed the record: %+v", got)
			}
			// The session is single use: the right answer after a wrong one finds nothing.
			_, err = w.post(url.Values{"id_token": {w.idToken(nonce, nil)}, "state": {state}})
			if oauthCode(err) != oid4vci.ErrInvalidRequest {
				t.Fatalf("second answer: %v", err)
			}
		})
	}
}

func TestHolderResponseReplayAndRaces(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	offerID, rec := f.offer(exchange.ModeInTime, "", erika())
	w := f.authzWallet()
	q, err := w.authorize(w.mustPush("issuer_state", exchange.IssuerState(offerID)))
	if err != nil {
		t.Fatal(err)
	}
	nonce, state := w.idTokenRequest(q)
	answer := url.Values{"id_token": {w.idToken(nonce, nil)}, "state": {state}}
	if resp, err := w.post(answer); err != nil || resp.Get("code") == "" {
		t.Fatalf("first answer: %v %v", resp, err)
	}
	if _, err := w.post(answer); oauthCode(err) != oid4vci.ErrInvalidRequest {
		t.Fatalf("replayed answer: %v", err)
	}
	if _, err := w.post(url.Values{"id_token": {w.idToken(nonce, nil)}, "state": {"made-up"}}); oauthCode(err) != oid4vci.ErrInvalidRequest {
		t.Fatalf("unknown state: %v", err)
	}
	// A second authorization of the same offer: its issuer_state is spent.
	if _, err := w.push("issuer_state", exchange.IssuerState(offerID)); oauthCode(err) != oid4vci.ErrInvalidRequest {
		t.Fatalf("issuer_state reused: %v", err)
	}
	_ = rec

	t.Run("pre-authorized code redeemed while the holder authenticates", func(t *testing.T) {
		offerID, rec := f.offer(exchange.ModeInTime, "", erika())
		q, err := w.authorize(w.mustPush("issuer_state", exchange.IssuerState(offerID)))
		if err != nil {
			t.Fatal(err)
		}
		nonce, state := w.idTokenRequest(q)
		f.mustToken(offerID, "")
		resp, err := w.post(url.Values{"id_token": {w.idToken(nonce, nil)}, "state": {state}})
		if err != nil || resp.Get("error") != oid4vci.ErrAccessDenied || resp.Has("code") {
			t.Fatalf("answer after the other grant: %v %v", resp, err)
		}
		if got := f.store.record(rec.CredentialExchangeID); got.AuthorizationCode != nil || !got.IsPreAuthorised {
			t.Fatalf("record %+v", got)
		}
	})
	t.Run("expired session", func(t *testing.T) {
		offerID, _ := f.offer(exchange.ModeInTime, "", erika())
		q, err := w.authorize(w.mustPush("issuer_state", exchange.IssuerState(offerID)))
		if err != nil {
			t.Fatal(err)
		}
		nonce, state := w.idTokenRequest(q)
		f.clock.Advance(5*time.Minute + time.Second)
		if _, err := w.post(url.Values{"id_token": {w.idToken(nonce, nil)}, "state": {state}}); oauthCode(err) != oid4vci.ErrInvalidRequest {
			t.Fatalf("expired session: %v", err)
		}
	})
}

func TestIssuerStateIdentifiesTheHolder(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{AuthorizationCodeFlow: wallet.AuthorizationCodeFlow{
		HolderAuthentication: definition.HolderAuthIssuerState}})
	offerID, rec := f.offer(exchange.ModeInTime, "", erika())
	w := f.authzWallet()
	q, err := w.authorize(w.mustPush("issuer_state", exchange.IssuerState(offerID), "dpop_jkt", oid4vci.PKCEChallenge("k")))
	if err != nil {
		t.Fatal(err)
	}
	if q.Get("code") == "" || q.Get("iss") != walletIssuer || q.Has("request") {
		t.Fatalf("authorization response %v", q)
	}
	got := f.store.record(rec.CredentialExchangeID)
	if got.AuthorizationCode == nil || got.AuthorizationCode.DPoPJKT != oid4vci.PKCEChallenge("k") || len(got.Holder) != 0 ||
		got.ClientID != w.client {
		t.Fatalf("record %+v", got)
	}
}

func TestDefinitionChoosesHolderAuthentication(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{AuthorizationCodeFlow: wallet.AuthorizationCodeFlow{
		HolderAuthentication: definition.HolderAuthIssuerState}})
	f.def.HolderAuthentication = definition.HolderAuthIDToken
	offerID, _ := f.offer(exchange.ModeInTime, "", erika())
	w := f.authzWallet()
	q, err := w.authorize(w.mustPush("issuer_state", exchange.IssuerState(offerID)))
	if err != nil {
		t.Fatal(err)
	}
	w.idTokenRequest(q) // the definition's id_token wins over the deployment's issuer_state
}

func TestWalletInitiatedIssuance(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	open := f.def
	open.ID, open.VCT, open.WalletInitiated = "open-pda1", "OpenPDA1", true
	open.HolderAuthentication = definition.HolderAuthIssuerState // no offer: an ID token all the same
	f.store.define(open)
	w := f.authzWallet()

	if _, err := w.push(); oauthCode(err) != oid4vci.ErrInvalidScope {
		t.Fatalf("a definition without walletInitiated: %v", err)
	}
	resp := w.code("scope", "-", "authorization_details", `[{"type":"openid_credential","credential_configuration_id":"open-pda1"}]`)
	code := resp.Get("code")
	id, ok := exchange.SecretExchangeID(code)
	if !ok {
		t.Fatalf("code %q", code)
	}
	rec := f.store.record(id)
	if rec.IssuanceMode != exchange.ModeDeferred || rec.CredentialStatus != exchange.CredentialPending ||
		rec.Status != exchange.StatusOfferReceived || rec.CredentialDefinitionID != "open-pda1" || rec.IsPreAuthorised ||
		rec.CredentialOffer != "" || rec.Holder["id"] != wallettest.DIDJWK(t, w.h.pub) || !rec.IDTokenVerified ||
		rec.AuthorizationCode == nil || len(rec.AuthorizationCode.Details) != 1 {
		t.Fatalf("wallet-initiated exchange %+v", rec)
	}
	evs := f.events.All()
	last := evs[len(evs)-1]
	if last.DetailType != "credential.offer_received" || last.Detail.Holder["id"] != rec.Holder["id"] || last.Detail.IDToken != "" ||
		last.Detail.CredentialExchangeID != id {
		t.Fatalf("event %+v", last)
	}
	if f.store.pointerCount(exchange.PointerAuthorization) != 0 {
		t.Fatal("the session survived the exchange it created")
	}
}

// TestPARRefusesAHolderAuthenticationNotAvailable: a definition asking for a presentation (presentationDefinitionId)
// at a deployment that has no OpenID4VP authenticator is refused at PAR, naming why, and nothing is stored; before,
// PAR kept the request and the authorization endpoint failed with a 500.
func TestPARRefusesAHolderAuthenticationNotAvailable(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	open := f.def
	open.ID, open.VCT, open.WalletInitiated, open.PresentationDefinitionID = "vp-pda1", "VPPDA1", true, "pd-1"
	f.store.define(open)
	w := f.authzWallet()
	before := f.store.pointerCount(exchange.PointerPushedRequest)
	_, err := w.push("scope", "vp-pda1")
	var oe *oid4vci.Error
	if !errors.As(err, &oe) || oe.Code != oid4vci.ErrInvalidRequest || !strings.Contains(oe.Description, "openid4vp") {
		t.Fatalf("PAR for a presentation without an OpenID4VP authenticator: %v", err)
	}
	if f.store.pointerCount(exchange.PointerPushedRequest) != before {
		t.Fatal("the refused request was stored")
	}
}

// TestPARRefusesAWalletWithoutDPoPWhenTheDefinitionRequiresIt: a wallet without DPoP asking for a credential whose
// definition requires it (requireDpop, or REQUIRE_DPOP by default) is refused at PAR, naming the fix, and nothing is
// stored; before, PAR accepted it and the token endpoint refused it, after the holder had authenticated. A DPoP
// proof at PAR binds the code to its key (RFC 9449 section 10), as dpop_jkt does (docs/security.md 14h).
func TestPARRefusesAWalletWithoutDPoPWhenTheDefinitionRequiresIt(t *testing.T) {
	yes, no := true, false
	for name, tc := range map[string]struct {
		deployment bool
		def        *bool
	}{
		"requireDpop":                 {def: &yes},
		"REQUIRE_DPOP":                {deployment: true},
		"requireDpop over false":      {deployment: false, def: &yes},
		"REQUIRE_DPOP, definition no": {deployment: true, def: &no},
	} {
		t.Run(name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{RequireDPoP: tc.deployment})
			f.def.RequireDPoP = tc.def
			required := f.def.DPoPRequired(tc.deployment)
			offerID, _ := f.offer(exchange.ModeInTime, "", erika())
			w := f.authzWallet()
			state := exchange.IssuerState(offerID)
			before := f.store.pointerCount(exchange.PointerPushedRequest)
			_, err := w.push("issuer_state", state)
			if !required {
				if err != nil {
					t.Fatalf("a definition that allows bearer tokens: %v", err)
				}
				return
			}
			var oe *oid4vci.Error
			if !errors.As(err, &oe) || oe.Code != oid4vci.ErrInvalidRequest || !strings.Contains(oe.Description, "DPoP") ||
				!strings.Contains(oe.Description, "dpop_jkt") {
				t.Fatalf("PAR without DPoP for a definition that requires it: %v", err)
			}
			if f.store.pointerCount(exchange.PointerPushedRequest) != before {
				t.Fatal("the refused request was stored")
			}
			if _, err := w.push("issuer_state", state, "dpop_jkt", oid4vci.PKCEChallenge("k")); err != nil {
				t.Fatalf("PAR with dpop_jkt: %v", err)
			}
			jkt := oid4vci.PKCEChallenge("proof-key")
			resp, err := w.pushWith(&wallet.Client{ClientID: w.client, DPoP: &dpop.Proof{Key: &jwtverify.PublicKey{Thumbprint: jkt}}},
				"issuer_state", state)
			if err != nil {
				t.Fatalf("PAR with a DPoP proof: %v", err)
			}
			q, err := w.authorize(resp.RequestURI)
			if err != nil {
				t.Fatal(err)
			}
			nonce, st := w.idTokenRequest(q)
			ans, err := w.post(url.Values{"id_token": {w.idToken(nonce, nil)}, "state": {st}})
			if err != nil {
				t.Fatal(err)
			}
			id, _ := exchange.SecretExchangeID(ans.Get("code"))
			if got := f.store.record(id); got.AuthorizationCode == nil || got.AuthorizationCode.DPoPJKT != jkt {
				t.Fatalf("the code is not bound to the key of the DPoP proof sent at PAR: %+v", got.AuthorizationCode)
			}
		})
	}
}
