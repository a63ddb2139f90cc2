// Package dpop checks DPoP proofs (RFC 9449) and issues the server nonces they must carry. It is used by the token
// endpoint (any grant: the proof's key becomes the access token's cnf.jkt) and by the resource endpoints (the proof
// must be signed by the key the token is bound to and carry the token's hash in ath). No I/O beyond the replay
// cache the caller passes.
package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
)

// Protocol names of RFC 9449.
const (
	// Header is the request header carrying the proof.
	Header = "DPoP"
	// NonceHeader carries a server nonce in responses.
	NonceHeader = "DPoP-Nonce"
	// JWTType is the typ of a proof.
	JWTType = "dpop+jwt"
	// Scheme is the Authorization scheme and token_type of a DPoP-bound access token.
	Scheme = "DPoP"
	// ErrInvalidProof is the error code of a proof that fails a check.
	ErrInvalidProof = "invalid_dpop_proof"
	// ErrUseNonce is the error code asking the client to retry with the nonce of the DPoP-Nonce header.
	ErrUseNonce = "use_dpop_nonce"
)

// MaxProofLength bounds a proof: a P-256 proof is about 600 bytes, an RSA-4096 one about 2 KiB.
const MaxProofLength = 4 << 10

// maxJTILength bounds jti: any unique string will do, and it is kept (hashed) in the replay memory.
const maxJTILength = 256

// Error is a proof that fails a check: Code is ErrInvalidProof or ErrUseNonce, Description says what failed and
// how to fix it, without quoting the proof.
type Error struct {
	Code        string
	Description string
}

// Error returns "<code>: <description>".
func (e *Error) Error() string { return e.Code + ": " + e.Description }

func invalid(format string, args ...any) *Error {
	return &Error{Code: ErrInvalidProof, Description: fmt.Sprintf(format, args...)}
}

// Check is what a proof must match.
type Check struct {
	// Method is the HTTP method of the request (htm).
	Method string
	// URL is the request's target URI as the client addresses it (htu), e.g. the endpoint URL of the metadata;
	// query and fragment are ignored.
	URL string
	// AccessToken, when set, is the access token of a resource request: ath must be its SHA-256 hash.
	AccessToken string
	// Time checks iat: MaxAge old at most (DefaultMaxAge of jwtverify when zero), Skew ahead at most.
	Time jwtverify.Window
	// Algs are the accepted algorithms (dpop_signing_alg_values_supported); jwtverify.DefaultAlgs when empty.
	Algs []string
	// Nonces, when set, requires a server nonce issued by it (missing or stale: ErrUseNonce).
	Nonces *Nonces
	// Replay, when set, refuses a proof whose key and jti it has seen within the proof window.
	Replay jwtverify.ReplayCache
}

// Proof is a verified proof.
type Proof struct {
	// Key is the public key the proof was signed with; Key.Thumbprint is the jkt to bind or compare.
	Key *jwtverify.PublicKey
	// JTI is the proof's identifier.
	JTI string
	// IssuedAt is its iat.
	IssuedAt time.Time
	// Nonce is the server nonce it carried, if any.
	Nonce string
}

// claims are the members of a proof; pointers tell absent from empty.
type claims struct {
	JTI   *string  `json:"jti"`
	HTM   *string  `json:"htm"`
	HTU   *string  `json:"htu"`
	IAT   *float64 `json:"iat"`
	ATH   *string  `json:"ath"`
	Nonce *string  `json:"nonce"`
}

// Verify checks a proof (the value of the DPoP header) as RFC 9449 section 4.3 lists: one well-formed JWT, typ
// dpop+jwt, an allowed asymmetric alg, a public jwk header that verifies the signature, jti, htm and htu matching
// the request, iat within the window, ath matching the access token (resource requests), the server nonce, and
// jti not seen before. A failure is an *Error; other errors (a failing replay cache) are internal.
func Verify(ctx context.Context, proof string, c Check) (*Proof, error) {
	if c.Time.Now.IsZero() || c.Method == "" || c.URL == "" {
		return nil, errors.New("dpop: check needs Method, URL and Time.Now")
	}
	want, err := NormalizeURI(c.URL)
	if err != nil {
		return nil, fmt.Errorf("dpop: the server's own URL: %w", err)
	}
	if strings.Contains(proof, ",") || strings.TrimSpace(proof) != proof {
		return nil, invalid("send exactly one DPoP header holding one proof JWT")
	}
	tok, err := jwtverify.Parse(proof, jwtverify.Rules{What: "the DPoP proof", Types: []string{JWTType},
		Algs: c.Algs, MaxLength: MaxProofLength})
	if err != nil {
		return nil, invalid("%s", err)
	}
	for _, m := range []string{"kid", "x5c", "x5u", "jku"} {
		if tok.Has(m) {
			return nil, invalid("the DPoP proof header must carry the public key as jwk only, not %s", m)
		}
	}
	key, err := tok.HeaderJWK("jwk")
	if err != nil {
		return nil, invalid("%s", err)
	}
	if err := tok.Verify(key.Raw); err != nil {
		return nil, invalid("%s: sign the proof with the private key of its jwk header", err)
	}
	var cl claims
	if err := tok.Claims(&cl); err != nil {
		return nil, invalid("%s", err)
	}
	p := &Proof{Key: key}
	if cl.JTI == nil || *cl.JTI == "" {
		return nil, invalid("the DPoP proof must carry jti, a unique identifier")
	}
	if len(*cl.JTI) > maxJTILength {
		return nil, invalid("the DPoP proof jti is longer than %d characters", maxJTILength)
	}
	p.JTI = *cl.JTI
	if cl.HTM == nil || *cl.HTM != c.Method {
		return nil, invalid("the DPoP proof htm must be %s, the method of this request", c.Method)
	}
	if cl.HTU == nil {
		return nil, invalid("the DPoP proof must carry htu: %s", want)
	}
	if got, err := NormalizeURI(*cl.HTU); err != nil || got != want {
		return nil, invalid("the DPoP proof htu must be %s, the URL of this endpoint (without query and fragment)", want)
	}
	if p.IssuedAt, err = c.Time.IssuedAt(cl.IAT, true, "the DPoP proof"); err != nil {
		return nil, invalid("%s", err)
	}
	if c.AccessToken != "" {
		if cl.ATH == nil || *cl.ATH == "" {
			return nil, invalid("the DPoP proof must carry ath, the base64url SHA-256 hash of the access token")
		}
		sum := sha256.Sum256([]byte(c.AccessToken))
		if subtle.ConstantTimeCompare([]byte(*cl.ATH), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))) != 1 {
			return nil, invalid("the DPoP proof ath is not the base64url SHA-256 hash of the access token sent")
		}
	}
	if cl.Nonce != nil {
		p.Nonce = *cl.Nonce
	}
	if c.Nonces != nil {
		switch err := c.Nonces.Check(p.Nonce, c.Time.Now); {
		case p.Nonce == "":
			return nil, &Error{Code: ErrUseNonce, Description: "a server nonce is required: put the value of the DPoP-Nonce response header in the proof's nonce claim"}
		case errors.Is(err, ErrNonceExpired):
			return nil, &Error{Code: ErrUseNonce, Description: "the DPoP nonce has expired: use the new value of the DPoP-Nonce response header"}
		case err != nil:
			return nil, &Error{Code: ErrUseNonce, Description: "the DPoP nonce is not one this server issued: use the value of the DPoP-Nonce response header"}
		}
	}
	if c.Replay != nil {
		// A proof is acceptable from iat-skew to iat+MaxAge: remembering it that long is enough.
		until := p.IssuedAt.Add(max(c.Time.MaxAgeOrDefault(), 0) + c.Time.SkewOrDefault())
		fresh, err := c.Replay.Remember(ctx, "dpop\x00"+key.Thumbprint+"\x00"+p.JTI, until)
		if err != nil {
			return nil, fmt.Errorf("dpop: replay memory: %w", err)
		}
		if !fresh {
			return nil, invalid("the DPoP proof was already used: create a new proof with a fresh jti for every request")
		}
	}
	return p, nil
}

// NormalizeURI is the form in which htu and the request URL are compared (RFC 9449 section 4.3 point 9, RFC 3986
// section 6.2.2 and 6.2.3): scheme and host in lower case, the default port dropped, an empty path as "/", dot
// segments removed, percent-encoded unreserved characters decoded and other percent-encodings in upper case;
// query and fragment dropped. Only absolute http and https URIs without user information are accepted.
func NormalizeURI(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a URI")
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "https" && scheme != "http") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", errors.New("not an absolute http(s) URI")
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	}
	u = u.ResolveReference(&url.URL{}) // removes dot segments
	path, err := normalizePercent(u.EscapedPath())
	if err != nil {
		return "", err
	}
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// normalizePercent decodes percent-encoded unreserved characters and upper-cases the hex digits of the others.
func normalizePercent(p string) (string, error) {
	if !strings.Contains(p, "%") {
		return p, nil
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", errors.New("bad percent-encoding")
		}
		v := unhex(p[i+1])<<4 | unhex(p[i+2])
		if isUnreserved(v) {
			b.WriteByte(v)
		} else {
			b.WriteString("%" + strings.ToUpper(p[i+1:i+3]))
		}
		i += 2
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
