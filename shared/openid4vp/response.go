package openid4vp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"

	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/strictjson"
)

// Limits of a response.
const (
	// MaxVPTokenBytes bounds a vp_token, as the wallet sent it (form decoded, or in the opened JWE): up to
	// MaxPresentations SD-JWT VCs with their disclosures, a PID with its portrait among them.
	MaxVPTokenBytes = 256 << 10
	// MaxParametersBytes bounds the other parameters of a response together (state, presentation_submission,
	// error, error_description).
	MaxParametersBytes = 16 << 10
	// MaxEncryptedResponseBytes bounds a direct_post.jwt response, the compact JWE: base64url (4/3) of a plaintext
	// holding at most MaxVPTokenBytes and MaxParametersBytes (a presentation's characters need no JSON escape),
	// and jweOverheadBytes for the protected header (epk, kid, apu, apv), the IV, the tag and the JSON of the
	// member names.
	MaxEncryptedResponseBytes = (MaxVPTokenBytes+MaxParametersBytes)/3*4 + jweOverheadBytes
	// MaxPostBytes bounds a direct_post body, in either response mode: percent-encoding (the clear form) at most
	// triples each byte of the parameters, which is more than the encrypted form's response=<JWE> (base64url
	// needs no escape), so the largest response MaxVPTokenBytes admits is taken either way.
	MaxPostBytes = 3 * (MaxVPTokenBytes + MaxParametersBytes)
	// MaxPresentations bounds the presentations of one vp_token.
	MaxPresentations = 20
	// MaxStateLength bounds state (the issuer's states are far shorter).
	MaxStateLength = 256

	jweOverheadBytes = 4 << 10
)

// ErrResponse is a response that is not well formed; errors wrapping it say what, for the wallet (never quoting
// the response).
var ErrResponse = errors.New("invalid authorization response")

func responseError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrResponse, fmt.Sprintf(format, args...))
}

// Response is a wallet's authorization response to a presentation request, as posted (direct_post) or opened from
// its JWE (direct_post.jwt).
type Response struct {
	// State is the request's state.
	State string
	// VPToken is the vp_token as sent: JSON text of an object or array, or a bare presentation string.
	VPToken string
	// PresentationSubmission is the drafts' presentation_submission (JSON), empty in 1.0 responses.
	PresentationSubmission string
	// Error and ErrorDescription are the wallet's error response (section 8.5), when it sent one.
	Error, ErrorDescription string
	// Encrypted reports a direct_post.jwt response.
	Encrypted bool
}

// ResponseKeys finds the issuer's private key of a kid for decrypting a direct_post.jwt response
// (shared/requestkeys.Ring); an unknown or expired kid is an error wrapping ErrUnknownKey.
type ResponseKeys interface {
	PrivateKey(ctx context.Context, kid string) (*ecdsa.PrivateKey, error)
}

// ErrUnknownKey is what ResponseKeys wraps for a kid it does not hold (the error of shared/requestkeys' rings).
var ErrUnknownKey = oid4vci.ErrUnknownRequestKey

// ParseResponse reads a posted response (the form of direct_post; a direct_post.jwt response has only
// `response`, the JWE, which OpenResponse opens with keys). Every parameter may appear once.
func ParseResponse(ctx context.Context, form url.Values, keys ResponseKeys) (*Response, error) {
	for k, v := range form {
		if len(v) != 1 {
			return nil, responseError("%s appears %d times; send each parameter once", paramName(k), len(v))
		}
	}
	if jweText := form.Get("response"); jweText != "" {
		if len(form) != 1 {
			return nil, responseError("a direct_post.jwt response carries only the response parameter")
		}
		return OpenResponse(ctx, jweText, keys)
	}
	r := &Response{State: form.Get("state"), VPToken: form.Get("vp_token"),
		PresentationSubmission: form.Get("presentation_submission"), Error: form.Get("error"),
		ErrorDescription: form.Get("error_description")}
	return r, r.check()
}

// paramName echoes a parameter name only when it is one of the protocol's.
func paramName(k string) string {
	switch k {
	case "state", "vp_token", "presentation_submission", "error", "error_description", "response", "id_token", "iss":
		return k
	}
	return "a parameter"
}

func (r *Response) check() error {
	switch {
	case len(r.VPToken) > MaxVPTokenBytes:
		return responseError("vp_token is larger than %d bytes", MaxVPTokenBytes)
	case len(r.State)+len(r.PresentationSubmission)+len(r.Error)+len(r.ErrorDescription) > MaxParametersBytes:
		return responseError("state, presentation_submission, error and error_description together are larger than %d bytes",
			MaxParametersBytes)
	case r.State == "":
		return responseError("state is required: the state of the request")
	case len(r.State) > MaxStateLength:
		return responseError("state is longer than %d characters", MaxStateLength)
	case r.Error != "":
		if r.VPToken != "" {
			return responseError("an error response carries no vp_token")
		}
		return nil
	case r.VPToken == "":
		return responseError("vp_token is required (or error, when the wallet declines)")
	}
	return nil
}

// OpenResponse decrypts a direct_post.jwt response (section 8.3): a compact JWE, alg ECDH-ES, enc A128GCM or
// A256GCM, no zip, the kid of the key the request named, whose plaintext is a JSON object of the response
// parameters (vp_token an object, array or string; presentation_submission an object). The header is checked
// before any key is used.
func OpenResponse(ctx context.Context, compact string, keys ResponseKeys) (*Response, error) {
	if keys == nil {
		return nil, responseError("this request was not sent with direct_post.jwt: post vp_token and state")
	}
	if len(compact) > MaxEncryptedResponseBytes {
		return nil, responseError("response is larger than %d bytes (a vp_token of at most %d bytes)",
			MaxEncryptedResponseBytes, MaxVPTokenBytes)
	}
	if strings.Count(compact, ".") != 4 {
		return nil, responseError("response must be a compact JWE (five base64url parts)")
	}
	msg, err := jwe.Parse([]byte(compact))
	if err != nil {
		return nil, responseError("response is not a valid compact JWE")
	}
	h := msg.ProtectedHeaders()
	switch {
	case h.Algorithm() != jwa.ECDH_ES:
		return nil, responseError("the response's alg must be %s", EncryptionAlg)
	case !slices.Contains(EncryptionEncs(), string(h.ContentEncryption())):
		return nil, responseError("the response's enc must be A128GCM or A256GCM")
	case h.Compression() != jwa.NoCompress:
		return nil, responseError("the response must not be compressed")
	case h.KeyID() == "":
		return nil, responseError("the response has no kid: name the key of client_metadata.jwks it is encrypted to")
	}
	if _, ok := h.Get("crit"); ok {
		return nil, responseError("the response's crit header is not supported")
	}
	priv, err := keys.PrivateKey(ctx, h.KeyID())
	if errors.Is(err, ErrUnknownKey) {
		return nil, responseError("the response's kid names no key of this request")
	}
	if err != nil {
		return nil, err
	}
	plain, err := jwe.Decrypt([]byte(compact), jwe.WithKey(jwa.ECDH_ES, priv))
	if err != nil {
		return nil, responseError("the response does not decrypt with the key its kid names")
	}
	var p struct {
		State                  string         `json:"state"`
		VPToken                jsontext.Value `json:"vp_token"`
		PresentationSubmission jsontext.Value `json:"presentation_submission"`
		Error                  string         `json:"error"`
		ErrorDescription       string         `json:"error_description"`
	}
	if err := strictjson.Unmarshal(plain, &p); err != nil || !bytes.HasPrefix(bytes.TrimSpace(plain), []byte("{")) {
		return nil, responseError("the decrypted response must be a JSON object of the response parameters")
	}
	r := &Response{State: p.State, PresentationSubmission: string(p.PresentationSubmission), Error: p.Error,
		ErrorDescription: p.ErrorDescription, Encrypted: true}
	if len(p.VPToken) > 0 {
		if p.VPToken.Kind() == '"' {
			var s string
			if err := strictjson.Unmarshal(p.VPToken, &s); err != nil {
				return nil, responseError("vp_token is not a valid JSON string")
			}
			r.VPToken = s
		} else {
			r.VPToken = string(p.VPToken)
		}
	}
	return r, r.check()
}

// VPToken is a parsed vp_token: ByQuery for OpenID4VP 1.0 (DCQL credential query id to its presentations), or
// List for the drafts (a single presentation, Single, or an array).
type VPToken struct {
	ByQuery map[string][]string
	List    []string
	Single  bool
}

// Count is the number of presentations.
func (t *VPToken) Count() int {
	n := len(t.List)
	for _, l := range t.ByQuery {
		n += len(l)
	}
	return n
}

// ParseVPToken reads a vp_token: for a DCQL request a JSON object whose members are arrays of presentation
// strings (section 8.1); for a presentation_definition request a presentation string or a JSON array of them.
// At most MaxPresentations presentations, none empty.
func ParseVPToken(raw string, dcql bool) (*VPToken, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxVPTokenBytes {
		return nil, responseError("vp_token is larger than %d bytes", MaxVPTokenBytes)
	}
	t := &VPToken{}
	if dcql {
		if !strings.HasPrefix(raw, "{") {
			return nil, responseError("vp_token must be a JSON object keyed by the DCQL credential query ids")
		}
		var m map[string][]string
		if err := strictjson.Unmarshal([]byte(raw), &m); err != nil {
			return nil, responseError("vp_token must be a JSON object whose members are arrays of presentations (%s)", jsonReason(err))
		}
		t.ByQuery = m
	} else {
		switch {
		case strings.HasPrefix(raw, "["):
			if err := strictjson.Unmarshal([]byte(raw), &t.List); err != nil {
				return nil, responseError("vp_token must be a presentation or a JSON array of presentations (%s)", jsonReason(err))
			}
		case strings.HasPrefix(raw, "{"):
			return nil, responseError("vp_token must be a presentation or a JSON array of presentations: this request used presentation_definition")
		case strings.HasPrefix(raw, `"`):
			var s string
			if err := strictjson.Unmarshal([]byte(raw), &s); err != nil {
				return nil, responseError("vp_token is not a valid JSON string")
			}
			t.List, t.Single = []string{s}, true
		default:
			t.List, t.Single = []string{raw}, true
		}
	}
	if n := t.Count(); n == 0 || n > MaxPresentations {
		return nil, responseError("vp_token must hold 1 to %d presentations", MaxPresentations)
	}
	for _, l := range t.ByQuery {
		if slices.Contains(l, "") {
			return nil, responseError("vp_token holds an empty presentation")
		}
	}
	if slices.Contains(t.List, "") {
		return nil, responseError("vp_token holds an empty presentation")
	}
	return t, nil
}

// jsonReason is a strict JSON error's reason with its member path, never a value.
func jsonReason(err error) string {
	var e *strictjson.Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "not JSON"
}
