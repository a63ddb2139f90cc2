package flow

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// dpopSession is a wallet's DPoP key within one flow and the server nonce it last received (DPoP-Nonce).
type dpopSession struct {
	key   *Holder
	nonce string
	// retries counts the use_dpop_nonce answers retried.
	retries int
}

func newDPoPSession() (*dpopSession, error) {
	key, err := NewHolder()
	if err != nil {
		return nil, fmt.Errorf("DPoP key: %w", err)
	}
	return &dpopSession{key: key}, nil
}

// proof is a DPoP proof (RFC 9449) of a POST to url, with ath for token and the last server nonce.
func (d *dpopSession) proof(url, token string) (string, error) {
	hdr := jws.NewHeaders()
	if err := hdr.Set("typ", "dpop+jwt"); err != nil {
		return "", err
	}
	if err := hdr.Set("jwk", d.key.pub); err != nil {
		return "", err
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	claims := map[string]any{"jti": base64.RawURLEncoding.EncodeToString(jti), "htm": http.MethodPost, "htu": url,
		"iat": time.Now().Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if d.nonce != "" {
		claims["nonce"] = d.nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.ES256, d.key.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign DPoP proof: %w", err)
	}
	return string(b), nil
}

// askedForNonce reports a use_dpop_nonce answer (token endpoint body or resource WWW-Authenticate) and keeps the
// DPoP-Nonce of every answer.
func (d *dpopSession) askedForNonce(a *answer) bool {
	if n := a.header.Get("DPoP-Nonce"); n != "" {
		d.nonce = n
	}
	return a.errorCode() == "use_dpop_nonce" || strings.Contains(a.header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`)
}
