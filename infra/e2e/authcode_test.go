package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

const (
	authzRedirect = "https://wallet.example/cb"
	authzVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// challengeOf is the PKCE S256 challenge of a verifier.
func challengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authzFlow is one run of the authorization code flow by a HAIP wallet over HTTP, step by step, so that each check
// can be broken in turn.
type authzFlow struct {
	h      *haipIssuer
	w      *haipWallet
	holder *attesttest.Key
	// issuerState is the offer's ("" for wallet-initiated), scope the configuration asked for, preAuthCode the
	// offer's other grant.
	issuerState, scope, preAuthCode string
}

func (h *haipIssuer) authzOffer(defID string) (exchangeID string, f *authzFlow) {
	h.t.Helper()
	id, link := h.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	offer := h.do(http.MethodGet, offerURI(h.t, link), nil)
	grants, _ := offer.json["grants"].(map[string]any)
	ac, _ := grants["authorization_code"].(map[string]any)
	state, _ := ac["issuer_state"].(string)
	pre, _ := grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	code, _ := pre["pre-authorized_code"].(string)
	if state == "" || code == "" {
		h.t.Fatalf("an offer without userPin carries both grants: %s", offer.raw)
	}
	return id, &authzFlow{h: h, w: h.newHAIPWallet("authz-wallet"), holder: attesttest.NewKey(h.t), issuerState: state,
		scope: defID, preAuthCode: code}
}

// par pushes the authorization request; kv override its form ("-" removes one).
func (f *authzFlow) par(kv ...string) *response {
	f.h.t.Helper()
	form := url.Values{"response_type": {"code"}, "client_id": {f.w.clientID}, "redirect_uri": {authzRedirect},
		"code_challenge": {challengeOf(authzVerifier)}, "code_challenge_method": {"S256"}, "scope": {f.scope},
		"state": {"wallet-state"}, "resource": {f.h.url}}
	if f.issuerState != "" {
		form.Set("issuer_state", f.issuerState)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			form.Del(kv[i])
		} else {
			form.Set(kv[i], kv[i+1])
		}
	}
	return f.w.send("/par", "application/x-www-form-urlencoded", []byte(form.Encode()), "")
}

func (f *authzFlow) requestURI(kv ...string) string {
	f.h.t.Helper()
	r := f.par(kv...)
	if r.status != http.StatusCreated || !strings.HasPrefix(r.str("request_uri"), "urn:ietf:params:oauth:request_uri:") ||
		r.json["expires_in"] != float64(60) || r.header.Get("Cache-Control") != "no-store" {
		f.h.t.Fatalf("PAR: %d %s %v", r.status, r.raw, r.header)
	}
	return r.str("request_uri")
}

func (f *authzFlow) authorize(requestURI, clientID string) *response {
	return f.h.do(http.MethodGet, "/authorize?"+url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode(), nil)
}

// location is the query of a 302 to the wallet's redirect_uri.
func (f *authzFlow) location(r *response) url.Values {
	f.h.t.Helper()
	if r.status != http.StatusFound {
		f.h.t.Fatalf("want a redirect, got %d %s", r.status, r.raw)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil || u.Scheme+"://"+u.Host+u.Path != authzRedirect {
		f.h.t.Fatalf("redirect to %q, want the redirect_uri registered through PAR", r.header.Get("Location"))
	}
	return u.Query()
}

// idTokenRequest checks the ID token request: its parameters, and the request object signed by the issuer's key
// (as published at /.well-known/jwt-vc-issuer) that repeats them.
func (f *authzFlow) idTokenRequest(q url.Values) map[string]any {
	t := f.h.t
	t.Helper()
	payload, err := jws.Verify([]byte(q.Get("request")), jws.WithKeySet(jwksOf(t, f.h.issuer), jws.WithInferAlgorithmFromKey(true)))
	if err != nil {
		t.Fatalf("request object: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"response_type": "id_token", "response_mode": "direct_post", "scope": "openid",
		"client_id": f.h.url, "iss": f.h.url, "redirect_uri": f.h.url + "/direct_post", "aud": f.w.clientID} {
		if claims[k] != want || (k != "iss" && k != "aud" && q.Get(k) != want) {
			t.Fatalf("ID token request %s: %v / %q, want %q", k, claims[k], q.Get(k), want)
		}
	}
	if claims["nonce"] != q.Get("nonce") || claims["state"] != q.Get("state") || q.Get("nonce") == "" {
		t.Fatalf("nonce or state differ: %v %v", claims, q)
	}
	return claims
}

// did is the holder's did:jwk.
func (f *authzFlow) did() string {
	b, err := json.Marshal(f.holder.Public)
	if err != nil {
		f.h.t.Fatal(err)
	}
	return "did:jwk:" + base64.RawURLEncoding.EncodeToString(b)
}

// idToken signs the holder's ID token for the request's nonce; over changes claims.
func (f *authzFlow) idToken(nonce string, over map[string]any) string {
	f.h.t.Helper()
	now := time.Now()
	c := map[string]any{"iss": f.did(), "sub": f.did(), "aud": f.h.url, "nonce": nonce, "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix()}
	for k, v := range over {
		c[k] = v
	}
	payload, err := json.Marshal(c)
	if err != nil {
		f.h.t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set("typ", "JWT")
	_ = hdr.Set("kid", f.did()+"#0")
	b, err := jws.Sign(payload, jws.WithKey(jwa.ES256, f.holder.Private, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		f.h.t.Fatal(err)
	}
	return string(b)
}

func (f *authzFlow) directPost(form url.Values) *response {
	return f.h.postForm("/direct_post", form)
}

// code runs PAR, the authorization endpoint and the ID token answer and returns the authorization response.
func (f *authzFlow) code(kv ...string) url.Values {
	f.h.t.Helper()
	q := f.location(f.authorize(f.requestURI(kv...), f.w.clientID))
	claims := f.idTokenRequest(q)
	return f.location(f.directPost(url.Values{"id_token": {f.idToken(claims["nonce"].(string), nil)}, "state": {q.Get("state")}}))
}

// token redeems code (with the wallet's DPoP key and client attestation); kv override the form.
func (f *authzFlow) token(code string, kv ...string) *response {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {authzVerifier},
		"redirect_uri": {authzRedirect}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			form.Del(kv[i])
		} else {
			form.Set(kv[i], kv[i+1])
		}
	}
	return f.w.send("/token", "application/x-www-form-urlencoded", []byte(form.Encode()), "")
}

// credential asks for the credential with a fresh proof of a new holder key.
func (f *authzFlow) credential(access string, body map[string]any) *response {
	k := attesttest.NewKey(f.h.t)
	body["proofs"] = map[string]any{"jwt": []string{f.h.keyProof(k, f.h.cNonce(), nil)}}
	return f.w.json("/credential", access, body)
}

// TestAuthorizationCodeFlow: a HAIP wallet takes an offer through the authorization code grant over HTTP: PAR with
// PKCE, issuer_state, DPoP and a client attestation (the definition requires both), the authorization endpoint's ID
// token request (a request object signed by the issuer's published key), the holder's ID token by did:jwk posted to
// direct_post, the authorization response with code, state and iss, the token request with code_verifier (a
// DPoP-bound token echoing authorization_details with credential_identifiers) and the credential by
// credential_identifier. The record shows the grant, the client, the holder and the verified ID token.
func TestAuthorizationCodeFlow(t *testing.T) {
	h := startHAIPIssuer(t, nil)
	as := h.do(http.MethodGet, "/.well-known/oauth-authorization-server", nil)
	for k, want := range map[string]any{"authorization_endpoint": h.url + "/authorize",
		"pushed_authorization_request_endpoint": h.url + "/par", "require_pushed_authorization_requests": true,
		"authorization_response_iss_parameter_supported": true} {
		if as.json[k] != want {
			t.Errorf("AS metadata %s = %v, want %v", k, as.json[k], want)
		}
	}
	for k, want := range map[string]string{"code_challenge_methods_supported": `["S256"]`, "response_types_supported": `["code"]`,
		"grant_types_supported": `["authorization_code","urn:ietf:params:oauth:grant-type:pre-authorized_code"]`} {
		if b, _ := json.Marshal(as.json[k]); string(b) != want {
			t.Errorf("AS metadata %s = %s, want %s", k, b, want)
		}
	}

	defID := h.definitionWith(haipPolicy)
	exID, f := h.authzOffer(defID)
	details := `[{"type":"openid_credential","credential_configuration_id":"` + defID + `"}]`
	resp := f.code("scope", "-", "authorization_details", details)
	if resp.Get("state") != "wallet-state" || resp.Get("iss") != h.url || resp.Get("code") == "" {
		t.Fatalf("authorization response %v", resp)
	}
	tok := f.token(resp.Get("code"))
	if tok.status != http.StatusOK || tok.str("token_type") != "DPoP" {
		t.Fatalf("token: %d %s", tok.status, tok.raw)
	}
	var granted []struct {
		CredentialIdentifiers []string `json:"credential_identifiers"`
	}
	b, _ := json.Marshal(tok.json["authorization_details"])
	if err := json.Unmarshal(b, &granted); err != nil || len(granted) != 1 || len(granted[0].CredentialIdentifiers) != 1 {
		t.Fatalf("authorization_details %s", b)
	}
	cred := f.credential(tok.str("access_token"), map[string]any{"credential_identifier": granted[0].CredentialIdentifiers[0]})
	if cred.status != http.StatusOK {
		t.Fatalf("credential: %d %s", cred.status, cred.raw)
	}
	rec := h.history(exID)
	holder, _ := rec["holder"].(map[string]any)
	decoded, _ := rec["idTokenDecoded"].(map[string]any)
	if rec["isPreAuthorised"] != false || rec["clientId"] != "authz-wallet" || rec["status"] != "credential_issued" ||
		holder["id"] != f.did() || rec["idTokenVerified"] != true || rec["idToken"] == "" || decoded["payload"] == nil ||
		rec["clientAssertionVerified"] != true {
		t.Fatalf("record %v", rec)
	}
	// One grant per offer: the pre-authorized code of the same offer is dead.
	if r := f.w.token(f.preAuthCode, "", nil); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
		t.Errorf("pre-authorized code after the authorization code grant: %d %s", r.status, r.raw)
	}
}

// TestAuthorizationCodeFlowRefusals: each check of the flow, broken in turn over HTTP, with the answer a wallet
// gets and where it gets it (a redirect to the registered redirect_uri, or an error body when that cannot be trusted).
func TestAuthorizationCodeFlowRefusals(t *testing.T) {
	h := startHAIPIssuer(t, nil)
	defID := h.definitionWith(map[string]any{})

	t.Run("PAR without PKCE", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		if r := f.par("code_challenge", "-"); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("PAR with plain PKCE", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		if r := f.par("code_challenge_method", "plain"); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("foreign issuer_state", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		_, other := h.authzOffer(defID)
		_ = other
		forged := strings.SplitN(f.issuerState, ".", 2)[0] + "." + strings.SplitN(other.issuerState, ".", 2)[1]
		if r := f.par("issuer_state", forged); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("configuration not offered", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		if r := f.par("scope", "another-configuration"); r.status != http.StatusBadRequest || r.str("error") != "invalid_scope" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("replayed request_uri", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		uri := f.requestURI()
		f.location(f.authorize(uri, f.w.clientID))
		r := f.authorize(uri, f.w.clientID)
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || r.header.Get("Location") != "" {
			t.Fatalf("second use of a request_uri: %d %s (never redirected)", r.status, r.raw)
		}
	})
	t.Run("expired PAR", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		uri := f.requestURI()
		// 60 seconds are not waited for: the pushed request's item in DynamoDB Local is made to expire now.
		key := exchange.PointerKey(exchange.PointerPushedRequest, strings.TrimPrefix(uri, "urn:ietf:params:oauth:request_uri:"))
		_, err := dynamodb.NewFromConfig(h.aws).UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
			TableName: aws.String(h.table), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key},
				"sk": &types.AttributeValueMemberS{Value: "PTR"}},
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			UpdateExpression:          aws.String("SET #ttl = :past"),
			ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":past": &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Unix()-1, 10)}},
		})
		if err != nil {
			t.Fatalf("expire the pushed request: %v", err)
		}
		r := f.authorize(uri, f.w.clientID)
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || r.header.Get("Location") != "" {
			t.Fatalf("expired request_uri: %d %s (never redirected)", r.status, r.raw)
		}
	})
	t.Run("request_uri of another client", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		if r := f.authorize(f.requestURI(), "another-client"); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("authorization without PAR", func(t *testing.T) {
		r := h.do(http.MethodGet, "/authorize?"+url.Values{"client_id": {"w"}, "response_type": {"code"},
			"redirect_uri": {authzRedirect}}.Encode(), nil)
		if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("ID token with the wrong nonce", func(t *testing.T) {
		exID, f := h.authzOffer(defID)
		q := f.location(f.authorize(f.requestURI(), f.w.clientID))
		f.idTokenRequest(q)
		resp := f.location(f.directPost(url.Values{"id_token": {f.idToken("another nonce", nil)}, "state": {q.Get("state")}}))
		if resp.Get("error") != "access_denied" || resp.Get("state") != "wallet-state" || resp.Get("iss") != h.url || resp.Has("code") {
			t.Fatalf("error response %v", resp)
		}
		if rec := h.history(exID); rec["idToken"] != "" || rec["isPreAuthorised"] != true {
			t.Fatalf("a refused ID token was recorded: %v", rec)
		}
		// The session is gone with its answer.
		if r := f.directPost(url.Values{"id_token": {f.idToken(q.Get("nonce"), nil)}, "state": {q.Get("state")}}); r.status != http.StatusBadRequest {
			t.Fatalf("second answer: %d %s", r.status, r.raw)
		}
	})
	t.Run("ID token for another audience", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		q := f.location(f.authorize(f.requestURI(), f.w.clientID))
		resp := f.location(f.directPost(url.Values{"id_token": {f.idToken(q.Get("nonce"), map[string]any{"aud": "https://other.example"})},
			"state": {q.Get("state")}}))
		if resp.Get("error") != "access_denied" || !strings.Contains(resp.Get("error_description"), "aud") {
			t.Fatalf("error response %v", resp)
		}
	})
	t.Run("PKCE mismatch", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		code := f.code().Get("code")
		if r := f.token(code, "code_verifier", strings.Repeat("x", 43)); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("wrong redirect_uri", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		code := f.code().Get("code")
		if r := f.token(code, "redirect_uri", "https://attacker.example/cb"); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("replayed code revokes its token", func(t *testing.T) {
		_, f := h.authzOffer(defID)
		code := f.code().Get("code")
		tok := f.token(code)
		if tok.status != http.StatusOK {
			t.Fatalf("token: %d %s", tok.status, tok.raw)
		}
		if r := f.token(code); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
			t.Fatalf("replayed code: %d %s", r.status, r.raw)
		}
		if r := f.credential(tok.str("access_token"), map[string]any{"credential_configuration_id": defID}); r.status != http.StatusUnauthorized {
			t.Fatalf("credential with the token of a replayed code: %d %s", r.status, r.raw)
		}
	})
}

// TestWalletInitiatedIssuance: a wallet starts from the metadata (scope of a definition with walletInitiated, no
// offer), authenticates the holder with an ID token and redeems the code; the issuer creates a Deferred exchange
// whose record and event name the holder's DID, the credential endpoint answers with a transaction_id, the
// organisation completes the exchange with the admin PUT, and the deferred credential endpoint delivers.
func TestWalletInitiatedIssuance(t *testing.T) {
	h := startHAIPIssuer(t, nil)
	closed := h.definitionWith(map[string]any{})
	defID := h.definitionWith(map[string]any{"walletInitiated": true})
	md := h.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil)
	configs, _ := md.json["credential_configurations_supported"].(map[string]any)
	if c, _ := configs[defID].(map[string]any); c["wallet_initiated"] != true || c["scope"] != defID {
		t.Fatalf("configuration %v", c)
	}
	f := &authzFlow{h: h, w: h.newHAIPWallet("wi-wallet"), holder: attesttest.NewKey(t), scope: closed}
	if r := f.par(); r.status != http.StatusBadRequest || r.str("error") != "invalid_scope" {
		t.Fatalf("a definition without walletInitiated: %d %s", r.status, r.raw)
	}
	f.scope = defID
	code := f.code().Get("code")
	exID := strings.SplitN(code, ".", 2)[0]
	rec := h.history(exID)
	holder, _ := rec["holder"].(map[string]any)
	if rec["issuanceMode"] != "Deferred" || rec["credentialStatus"] != "pending" || holder["id"] != f.did() ||
		rec["credentialDefinitionId"] != defID || rec["credentialOffer"] != "" {
		t.Fatalf("wallet-initiated record %v", rec)
	}
	tok := f.token(code)
	if tok.status != http.StatusOK {
		t.Fatalf("token: %d %s", tok.status, tok.raw)
	}
	access := tok.str("access_token")
	pending := f.credential(access, map[string]any{"credential_configuration_id": defID})
	if pending.status != http.StatusAccepted || pending.str("transaction_id") == "" {
		t.Fatalf("credential of a pending exchange: %d %s", pending.status, pending.raw)
	}
	put := h.admin(http.MethodPut, "/credential/history/"+exID, map[string]any{"credential": map[string]any{
		"credentialSubject": map[string]any{"given_name": "Erika"}}})
	if put.status != http.StatusOK {
		t.Fatalf("complete: %d %s", put.status, put.raw)
	}
	got := f.w.json("/deferred-credential", access, map[string]any{"transaction_id": pending.str("transaction_id")})
	if got.status != http.StatusOK {
		t.Fatalf("deferred credential: %d %s", got.status, got.raw)
	}
}
