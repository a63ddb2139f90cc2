// Package openid4vp is the verifier's side of OpenID for Verifiable Presentations as this issuer speaks it in a
// dynamic credential request: the authorization request it sends the wallet (a request object signed through the
// one signing path, or, for the redirect_uri client identifier prefix, plain parameters), transaction data and
// their hashes, and the wallet's authorization response (direct_post or direct_post.jwt) with its vp_token in the
// OpenID4VP 1.0 shape (an object keyed by DCQL credential query id) or the drafts' (a string or an array with a
// presentation_submission). Protocol only: no I/O besides the signer it is handed.
package openid4vp

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// Values of the protocol.
const (
	// RequestObjectTyp is the typ of a request object (OpenID4VP 1.0 section 5, RFC 9101).
	RequestObjectTyp = "oauth-authz-req+jwt"
	// MediaTypeRequestObject is how the request_uri endpoint answers.
	MediaTypeRequestObject = "application/oauth-authz-req+jwt"
	// ResponseTypeVPToken is the response_type of a presentation request.
	ResponseTypeVPToken = "vp_token"
	// ResponseModeDirectPost and ResponseModeDirectPostJWT are the response modes the issuer asks for (section
	// 8.2 and 8.3.1).
	ResponseModeDirectPost    = "direct_post"
	ResponseModeDirectPostJWT = "direct_post.jwt"
	// StaticAudience is the aud of a request object sent to a wallet whose metadata the verifier did not discover
	// (section 5.8).
	StaticAudience = "https://self-issued.me/v2"
	// PrefixX509SANDNS and PrefixRedirectURI are the client identifier prefixes the issuer uses (section 5.9.3).
	PrefixX509SANDNS  = "x509_san_dns:"
	PrefixRedirectURI = "redirect_uri:"
	// Scheme is the custom URL scheme of wallets' authorization endpoints for presentations (section 13.1.2).
	Scheme = "openid4vp://"
	// EncryptionAlg is the JWE alg of encrypted responses (HAIP: ECDH-ES with P-256).
	EncryptionAlg = "ECDH-ES"
)

// EncryptionEncs are the content encryption algorithms the issuer decrypts (A128GCM is the default of section
// 8.3).
func EncryptionEncs() []string { return []string{"A128GCM", "A256GCM"} }

// KeyBindingAlgs are the KB-JWT algorithms the issuer verifies (shared/sdjwt).
func KeyBindingAlgs() []string { return []string{"ES256", "ES384", "ES512", "EdDSA"} }

// Request is one presentation request: the authorization request parameters of section 5, as the issuer fills
// them for one holder authentication.
type Request struct {
	// ClientID is the client identifier with its prefix (ClientID).
	ClientID string
	// ResponseURI is where the wallet posts its response (direct_post).
	ResponseURI string
	// ResponseMode is ResponseModeDirectPost or ResponseModeDirectPostJWT.
	ResponseMode string
	// Nonce binds the presentations' key binding JWTs to this request; State names it in the response.
	Nonce, State string
	// DCQLQuery (OpenID4VP 1.0) or PresentationDefinition (drafts): exactly one, compact JSON objects.
	DCQLQuery, PresentationDefinition json.RawMessage
	// TransactionData are the encoded transaction_data strings (EncodeTransactionData), none for most requests.
	TransactionData []string
	// EncryptionKey is the public JWK (kid, alg ECDH-ES, use enc) responses are encrypted to; required for
	// direct_post.jwt, absent otherwise.
	EncryptionKey jwk.Key
	// IssuedAt and ExpiresAt bound a signed request object (iat, exp).
	IssuedAt, ExpiresAt time.Time
}

// ErrRequest is a Request that cannot be sent as it is (a programming or configuration fault).
var ErrRequest = errors.New("invalid presentation request")

// check validates the request's own consistency.
func (r *Request) check() error {
	switch {
	case r.ClientID == "" || r.ResponseURI == "" || r.Nonce == "" || r.State == "":
		return fmt.Errorf("%w: client_id, response_uri, nonce and state are required", ErrRequest)
	case (len(r.DCQLQuery) == 0) == (len(r.PresentationDefinition) == 0):
		return fmt.Errorf("%w: exactly one of dcql_query and presentation_definition", ErrRequest)
	case r.ResponseMode != ResponseModeDirectPost && r.ResponseMode != ResponseModeDirectPostJWT:
		return fmt.Errorf("%w: response_mode %q", ErrRequest, r.ResponseMode)
	case r.ResponseMode == ResponseModeDirectPostJWT && r.EncryptionKey == nil:
		return fmt.Errorf("%w: direct_post.jwt needs the encryption key", ErrRequest)
	}
	return nil
}

// Draft reports whether the request is for a wallet of an OpenID4VP draft (a presentation_definition).
func (r *Request) Draft() bool { return len(r.PresentationDefinition) > 0 }

// Parameters are the authorization request parameters as JSON members (the request object's claims, or, encoded,
// the query of an unsigned request). A 1.0 request carries dcql_query and client_metadata.vp_formats_supported
// (and encrypted_response_enc_values_supported); a draft request presentation_definition and vp_formats (and the
// JARM members authorization_encrypted_response_alg/enc).
func (r *Request) Parameters() (map[string]any, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	p := map[string]any{
		"response_type": ResponseTypeVPToken,
		"client_id":     r.ClientID,
		"response_uri":  r.ResponseURI,
		"response_mode": r.ResponseMode,
		"nonce":         r.Nonce,
		"state":         r.State,
	}
	formats := map[string]any{"sd-jwt_alg_values": []string{"ES256"}, "kb-jwt_alg_values": KeyBindingAlgs()}
	meta := map[string]any{}
	if r.Draft() {
		p["presentation_definition"] = r.PresentationDefinition
		meta["vp_formats"] = map[string]any{"vc+sd-jwt": formats, "dc+sd-jwt": formats}
	} else {
		p["dcql_query"] = r.DCQLQuery
		meta["vp_formats_supported"] = map[string]any{"dc+sd-jwt": formats}
	}
	if r.ResponseMode == ResponseModeDirectPostJWT {
		meta["jwks"] = map[string]any{"keys": []any{r.EncryptionKey}}
		if r.Draft() {
			meta["authorization_encrypted_response_alg"] = EncryptionAlg
			meta["authorization_encrypted_response_enc"] = EncryptionEncs()[0]
		} else {
			meta["encrypted_response_enc_values_supported"] = EncryptionEncs()
		}
	}
	p["client_metadata"] = meta
	if len(r.TransactionData) > 0 {
		p["transaction_data"] = r.TransactionData
	}
	return p, nil
}

// Sign signs the request object through the issuer's signing path (keys.SignJWS: ES256, kid, and x5c when the key
// is certified, which the x509_san_dns prefix needs): typ oauth-authz-req+jwt, the parameters plus aud (the static
// audience), iat and exp.
func (r *Request) Sign(ctx context.Context, signer keys.Signer) (string, error) {
	p, err := r.Parameters()
	if err != nil {
		return "", err
	}
	p["aud"] = StaticAudience
	p["iat"] = r.IssuedAt.Unix()
	p["exp"] = r.ExpiresAt.Unix()
	payload, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode request object: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, RequestObjectTyp); err != nil {
		return "", fmt.Errorf("request object: set typ: %w", err)
	}
	out, err := keys.SignJWS(ctx, signer, payload, hdr)
	if err != nil {
		return "", fmt.Errorf("sign request object: %w", err)
	}
	return string(out), nil
}

// Query is the request as plain parameters (section 5: objects JSON-encoded), for the redirect_uri prefix, whose
// requests are never signed.
func (r *Request) Query() (url.Values, error) {
	p, err := r.Parameters()
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	for k, v := range p {
		switch x := v.(type) {
		case string:
			q.Set(k, x)
		default:
			b, err := json.Marshal(x)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", k, err)
			}
			q.Set(k, string(b))
		}
	}
	return q, nil
}

// ByReference is the query of a signed request passed by reference (RFC 9101 section 5.2): client_id and
// request_uri.
func ByReference(clientID, requestURI string) url.Values {
	return url.Values{"client_id": {clientID}, "request_uri": {requestURI}}
}

// WalletURL is the wallet invocation URL of a request (section 13.1.2): openid4vp:// with the query.
func WalletURL(q url.Values) string { return Scheme + "?" + q.Encode() }

// ClientID chooses the client identifier for the issuer as verifier: x509_san_dns:<host> when the issuer's
// signing key is certified (leafDER, the first certificate of its chain) for the response URI's host as a DNS
// name, so that the request object can be signed and the wallet checks the chain; otherwise
// redirect_uri:<responseURI>, whose requests are sent unsigned. signed says which.
func ClientID(responseURI string, leafDER []byte) (clientID string, signed bool) {
	u, err := url.Parse(responseURI)
	if err == nil && len(leafDER) > 0 {
		if leaf, err := x509.ParseCertificate(leafDER); err == nil {
			host := strings.ToLower(u.Hostname())
			if slices.ContainsFunc(leaf.DNSNames, func(n string) bool { return strings.EqualFold(n, host) }) {
				return PrefixX509SANDNS + host, true
			}
		}
	}
	return PrefixRedirectURI + responseURI, false
}
