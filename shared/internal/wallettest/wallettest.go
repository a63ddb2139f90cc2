// Package wallettest holds the wallet-side helpers the tests of shared/ packages share: the token request that
// redeems an offer's pre-authorized code, holder keys and the key proofs they sign, and the OAuth error code of
// an answer. Only tests import it.
package wallettest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// TokenRequest is the parsed token request redeeming the pre-authorized code of offerID, with the tx_code pin
// ("" sends none), as a wallet posts it.
func TokenRequest(offerID, pin string) (*oid4vci.TokenRequest, error) {
	form := url.Values{"grant_type": {oid4vci.GrantTypePreAuthorizedCode},
		"pre-authorized_code": {exchange.PreAuthorizedCode(offerID)}}
	if pin != "" {
		form.Set("tx_code", pin)
	}
	req, err := oid4vci.ParseTokenRequest(form.Encode(), "application/x-www-form-urlencoded")
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	return req, nil
}

// OAuthCode is the OAuth error code of err ("" when err is not an *oid4vci.Error).
func OAuthCode(err error) string {
	var oe *oid4vci.Error
	if errors.As(err, &oe) {
		return oe.Code
	}
	return ""
}

// NewHolderKey generates a wallet's P-256 key and its public JWK, failing tb on error.
func NewHolderKey(tb testing.TB) (*ecdsa.PrivateKey, jwk.Key) {
	tb.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return priv, pub
}

// SignProof signs a key proof JWT with priv (ES256): header typ openid4vci-proof+jwt and jwk pub, payload claims.
func SignProof(tb testing.TB, priv *ecdsa.PrivateKey, pub jwk.Key, claims map[string]any) string {
	tb.Helper()
	hdr := jws.NewHeaders()
	for k, v := range map[string]any{"typ": oid4vci.ProofJWTType, "jwk": pub} {
		if err := hdr.Set(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.ES256, priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// DIDJWK is the did:jwk of a public key.
func DIDJWK(tb testing.TB, pub jwk.Key) string {
	tb.Helper()
	b, err := json.Marshal(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return "did:jwk:" + base64.RawURLEncoding.EncodeToString(b)
}

// SignIDToken signs a self-issued ID token with priv (ES256) as a wallet answers an ID token request: header typ
// JWT and kid the did:jwk of pub (#0), payload claims (iss and sub default to that DID).
func SignIDToken(tb testing.TB, priv *ecdsa.PrivateKey, pub jwk.Key, claims map[string]any) string {
	tb.Helper()
	did := DIDJWK(tb, pub)
	hdr := jws.NewHeaders()
	for k, v := range map[string]any{"typ": "JWT", "kid": did + "#0"} {
		if err := hdr.Set(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	c := map[string]any{"iss": did, "sub": did}
	for k, v := range claims {
		c[k] = v
	}
	payload, err := json.Marshal(c)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.ES256, priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
