package oid4vci

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Limits on key proofs.
const (
	// MaxProofJWTLength bounds one proof JWT. A P-256 proof is about 600 bytes; the bound leaves room for an RSA key
	// or a key_attestation header while keeping parsing cheap.
	MaxProofJWTLength = 16 << 10
	// DefaultProofMaxAge is how old (by iat) a proof may be when ProofExpectations.MaxAge is zero.
	DefaultProofMaxAge = 5 * time.Minute
	// DefaultClockSkew is how far in the future iat may lie when ProofExpectations.ClockSkew is zero.
	DefaultClockSkew = time.Minute
)

// ErrNonceRejected is what a ProofExpectations.NonceCheck returns (wrapped or not) for a c_nonce that is unknown,
// expired or already used; the proof then fails with invalid_nonce. Any other error from NonceCheck is treated as an
// internal failure and returned as is, wrapped.
var ErrNonceRejected = errors.New("c_nonce rejected")

// ProofExpectations are what a key proof JWT must satisfy.
type ProofExpectations struct {
	// Audience is the credential issuer identifier; aud must equal it (or be an array containing it).
	Audience string
	// Now is the current time; required.
	Now time.Time
	// MaxAge is how old iat may be; DefaultProofMaxAge when zero.
	MaxAge time.Duration
	// ClockSkew is how far iat may lie in the future (and how late exp and nbf are tolerated); DefaultClockSkew
	// when zero.
	ClockSkew time.Duration
	// AllowedAlgs are the accepted JWS algorithms (proof_signing_alg_values_supported); DefaultAlgs when empty.
	// none and symmetric algorithms are refused whatever the list says.
	AllowedAlgs []string
	// RequireNonce makes a proof without a nonce claim fail with invalid_proof (1.0 section 8.3.1.2).
	RequireNonce bool
	// ExpectedNonce, when set, is the one c_nonce accepted (compared in constant time).
	ExpectedNonce string
	// NonceCheck, when set, decides whether a nonce is acceptable (see ErrNonceRejected). It must not consume the
	// nonce: ValidateProofs calls it once per distinct nonce of a request. With neither ExpectedNonce nor NonceCheck
	// set, the nonce is only recorded in Proof.Nonce for the caller to check.
	NonceCheck func(nonce string) error
	// KeyAttestation, when set, makes key attestations required (key_attestations_required): every proof must
	// carry one in its key_attestation header, KeyAttestation checks it (an *Error when it fails) and returns the
	// attested keys, and the proof must be signed by one of them, named by its jwk header or by kid (the kid of
	// an attested key, or its position in attested_keys). When nil, a key_attestation header is ignored.
	KeyAttestation func(jwt string) ([]AttestedKey, error)
}

// AttestedKey is a key of a verified key attestation.
type AttestedKey struct {
	// Key is the public key.
	Key jwk.Key
	// JWK holds only its public members (for cnf.jwk).
	JWK map[string]any
	// Thumbprint is its RFC 7638 thumbprint, base64url.
	Thumbprint string
	// KID is the kid member of the attested JWK, if any.
	KID string
}

// Proof is a validated key proof: the holder's public key and what the proof said.
type Proof struct {
	// Raw is the proof JWT as received.
	Raw string
	// Algorithm is the JWS alg the proof was signed with.
	Algorithm string
	// Key is the holder's public key.
	Key jwk.Key
	// JWK holds only the public key members (kty, crv, x, y / n, e), ready for the credential's cnf.jwk.
	JWK map[string]any
	// Thumbprint is the RFC 7638 SHA-256 thumbprint of Key, base64url-encoded.
	Thumbprint string
	// Nonce is the nonce claim, if any.
	Nonce string
	// Issuer is the iss claim (the wallet's client_id), if any.
	Issuer string
	// JTI is the jti claim, if any.
	JTI string
	// IssuedAt is the iat claim.
	IssuedAt time.Time
	// AttestedKeys are the keys of the proof's key attestation (only with ProofExpectations.KeyAttestation).
	AttestedKeys []AttestedKey
}

// ValidateProofJWT checks a jwt key proof (OpenID4VCI 1.0 appendix F.1 and F.4): compact JWS, typ
// openid4vci-proof+jwt, an allowed asymmetric alg, the holder key as a public jwk (kid and x5c are not supported),
// a signature that verifies with that key, aud equal to the issuer, iat within the window, and the nonce as
// required. Every rejection is an *Error with code invalid_proof or invalid_nonce whose description says what
// failed and how to fix it; other errors are internal (bad expectations, a failing NonceCheck).
func ValidateProofJWT(token string, exp ProofExpectations) (*Proof, error) {
	if exp.Now.IsZero() || exp.Audience == "" {
		return nil, fmt.Errorf("validate proof: expectations need Now and Audience")
	}
	if len(token) > MaxProofJWTLength {
		return nil, Errorf(ErrInvalidProof, "the proof JWT is longer than %d bytes", MaxProofJWTLength)
	}
	hdrSeg, paySeg, sigSeg, err := jws.SplitCompactString(token)
	if err != nil || len(hdrSeg) == 0 || len(paySeg) == 0 || len(sigSeg) == 0 {
		return nil, Errorf(ErrInvalidProof, "the proof must be a JWS in compact serialization: header.payload.signature")
	}
	// The header is read strictly (no repeated member: jwx would keep the last of two algs or keys) before jwx
	// verifies the JWS with the key and algorithm taken from it.
	header, err := decodeSegment(hdrSeg)
	if err != nil {
		return nil, Errorf(ErrInvalidProof, "the proof JWT header is not base64url-encoded JSON object: %s", err)
	}
	alg, err := checkProofHeader(header, exp.AllowedAlgs)
	if err != nil {
		return nil, err
	}
	var attested []AttestedKey
	var hk provenKey
	if exp.KeyAttestation != nil {
		attested, hk, err = attestedHolderKey(header, alg, exp.KeyAttestation)
	} else {
		hk, err = holderKey(header, alg)
	}
	if err != nil {
		return nil, err
	}
	if _, err := base64.RawURLEncoding.DecodeString(string(sigSeg)); err != nil {
		return nil, Errorf(ErrInvalidProof, "the proof signature is not base64url-encoded without padding")
	}
	if _, err := base64.RawURLEncoding.DecodeString(string(paySeg)); err != nil {
		return nil, Errorf(ErrInvalidProof, "the proof JWT payload is not base64url-encoded JSON object: invalid base64url")
	}
	// alg is one of the allowed asymmetric algorithms (checkProofHeader) and matches the key (holderKey).
	payloadJSON, err := jws.Verify([]byte(token), jws.WithKey(jwa.SignatureAlgorithm(alg), hk.key))
	if err != nil {
		return nil, Errorf(ErrInvalidProof, "the proof signature does not verify with the jwk in its header; sign header.payload with the private key of that jwk")
	}
	payload, err := decodeJSONObject(payloadJSON)
	if err != nil {
		return nil, Errorf(ErrInvalidProof, "the proof JWT payload is not base64url-encoded JSON object: %s", err)
	}
	proof := &Proof{Raw: token, Algorithm: alg, Key: hk.key, JWK: hk.members, Thumbprint: hk.thumbprint,
		AttestedKeys: attested}
	if err := checkProofClaims(payload, exp, proof); err != nil {
		return nil, err
	}
	return proof, nil
}

// provenKey is the holder key of a proof in the forms ValidateProofJWT needs.
type provenKey struct {
	key        jwk.Key        // the public key, canonical (jwk.FromRaw of the parsed key)
	members    map[string]any // the public members only, for cnf.jwk
	thumbprint string         // RFC 7638 SHA-256 thumbprint, base64url
}

// ValidateProofs validates every proof of a credential request. NonceCheck runs once per distinct nonce, and proofs
// that repeat a key already proven are dropped, since each key binds at most one credential (1.0 section 8.3). The
// description of a failure names the proof by its position.
func ValidateProofs(jwts []string, exp ProofExpectations) ([]*Proof, error) {
	if len(jwts) == 0 {
		return nil, Errorf(ErrInvalidProof, "at least one proof is required")
	}
	if check := exp.NonceCheck; check != nil {
		verdicts := map[string]error{}
		exp.NonceCheck = func(nonce string) error {
			if v, ok := verdicts[nonce]; ok {
				return v
			}
			v := check(nonce)
			verdicts[nonce] = v
			return v
		}
	}
	out := make([]*Proof, 0, len(jwts))
	seen := map[string]bool{}
	for i, t := range jwts {
		p, err := ValidateProofJWT(t, exp)
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) && len(jwts) > 1 {
				return nil, &Error{Code: pe.Code, Description: fmt.Sprintf("proof %d: %s", i+1, pe.Description)}
			}
			return nil, err
		}
		if seen[p.Thumbprint] {
			continue
		}
		seen[p.Thumbprint] = true
		out = append(out, p)
	}
	return out, nil
}

// decodeSegment decodes one base64url JWS segment holding a JSON object.
func decodeSegment(seg []byte) (jsonObject, error) {
	b, err := base64.RawURLEncoding.DecodeString(string(seg))
	if err != nil {
		return nil, errors.New("invalid base64url")
	}
	return decodeJSONObject(b)
}

// decodeJSONObject decodes a JWS header or payload, with a description of what is wrong for the wallet.
func decodeJSONObject(b []byte) (jsonObject, error) {
	obj, err := decodeObject(b)
	if err != nil {
		var dup *duplicateError
		if errors.As(err, &dup) {
			return nil, fmt.Errorf("member %s appears more than once", dup.name())
		}
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}

// checkProofHeader checks typ, alg and crit and returns alg.
func checkProofHeader(h jsonObject, allowed []string) (string, error) {
	typ, ok, err := h.str("typ")
	if err != nil || !ok {
		return "", Errorf(ErrInvalidProof, "the proof JWT header must carry typ %s", ProofJWTType)
	}
	if !strings.EqualFold(typ, ProofJWTType) && !strings.EqualFold(typ, "application/"+ProofJWTType) {
		return "", Errorf(ErrInvalidProof, "the proof JWT typ must be %s", ProofJWTType)
	}
	if len(allowed) == 0 {
		allowed = DefaultAlgs()
	}
	alg, ok, err := h.str("alg")
	if err != nil || !ok || alg == "" {
		return "", Errorf(ErrInvalidProof, "the proof JWT header must carry alg, one of %s", strings.Join(allowed, ", "))
	}
	switch {
	case strings.EqualFold(alg, "none"):
		return "", Errorf(ErrInvalidProof, "alg none is not accepted; sign the proof with one of %s", strings.Join(allowed, ", "))
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return "", Errorf(ErrInvalidProof, "symmetric (HMAC) algorithms are not accepted; sign the proof with one of %s", strings.Join(allowed, ", "))
	}
	if !asymmetricAlg(alg) || !contains(allowed, alg) {
		return "", Errorf(ErrInvalidProof, "the proof alg %s is not supported; use one of %s", algName(alg), strings.Join(allowed, ", "))
	}
	if h.present("crit") {
		return "", Errorf(ErrInvalidProof, "the crit header is not supported; send the proof without critical extensions")
	}
	return alg, nil
}

// holderKey extracts the holder's public key from the jwk header, refusing kid and x5c binding and private keys.
func holderKey(h jsonObject, alg string) (provenKey, error) {
	n := 0
	for _, m := range []string{"jwk", "kid", "x5c"} {
		if h.present(m) {
			n++
		}
	}
	switch {
	case n > 1:
		return provenKey{}, Errorf(ErrInvalidProof, "the proof JWT header must carry exactly one of jwk, kid and x5c; send only jwk")
	case n == 0:
		return provenKey{}, Errorf(ErrInvalidProof, "the proof JWT header must carry the holder public key as jwk")
	case !h.present("jwk"):
		return provenKey{}, Errorf(ErrInvalidProof, "only jwk key binding is supported (cryptographic_binding_methods_supported); put the holder public key in the jwk header instead of kid or x5c")
	}
	raw, ok, err := h.object("jwk")
	if err != nil || !ok {
		return provenKey{}, Errorf(ErrInvalidProof, "the jwk header must be a JSON object holding a public JWK")
	}
	for _, m := range privateMembers() {
		if raw.present(m) {
			return provenKey{}, Errorf(ErrInvalidProof, "the jwk header contains private key material (%s); send only the public key", m)
		}
	}
	kty, _, _ := raw.str("kty")
	if kty != "EC" && kty != "OKP" && kty != "RSA" {
		return provenKey{}, Errorf(ErrInvalidProof, "the jwk header must be an EC, OKP or RSA public key")
	}
	if kty == "EC" {
		if err := checkECMembers(raw, alg); err != nil {
			return provenKey{}, err
		}
	}
	parsed, err := jwk.ParseKey(h["jwk"])
	if err != nil {
		return provenKey{}, Errorf(ErrInvalidProof, "the jwk header is not a valid public JWK")
	}
	var pub any
	if err := parsed.Raw(&pub); err != nil {
		return provenKey{}, Errorf(ErrInvalidProof, "the jwk header is not a usable public key")
	}
	if ec, ok := pub.(*ecdsa.PublicKey); ok && nistCurve(ec.Curve) {
		if _, err := ec.ECDH(); err != nil { // crypto/ecdh checks that the point lies on the curve
			return provenKey{}, Errorf(ErrInvalidProof, "the jwk header is not a valid public key: the point is not on curve %s", ec.Curve.Params().Name)
		}
	}
	// The canonical JWK of the key: EC coordinates at their full size (some wallets drop leading zero bytes), and
	// nothing but the key, so that the thumbprint and cnf.jwk are those of the key whatever the wallet wrote.
	key, err := jwk.FromRaw(pub)
	if err != nil {
		return provenKey{}, Errorf(ErrInvalidProof, "the jwk header is not a usable public key")
	}
	if err := keyMatchesAlg(key, alg); err != nil {
		return provenKey{}, err
	}
	members, err := publicMembers(key)
	if err != nil {
		return provenKey{}, Errorf(ErrInvalidProof, "the jwk header is not a valid public JWK")
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return provenKey{}, Errorf(ErrInvalidProof, "the jwk header is not a usable public key")
	}
	return provenKey{key: key, members: members, thumbprint: base64.RawURLEncoding.EncodeToString(tp)}, nil
}

// attestedHolderKey checks the key_attestation header with check and finds the key that signed the proof among
// the attested keys: the jwk header's key, or the attested key that kid names (its kid member, or its position in
// attested_keys).
func attestedHolderKey(h jsonObject, alg string, check func(string) ([]AttestedKey, error)) ([]AttestedKey, provenKey, error) {
	ka, ok, err := h.str("key_attestation")
	if err != nil || !ok || ka == "" {
		return nil, provenKey{}, Errorf(ErrInvalidProof, "this credential configuration requires a key attestation "+
			"(key_attestations_required): put it in the proof's key_attestation header, or send it as the attestation proof type")
	}
	attested, err := check(ka)
	if err != nil {
		return nil, provenKey{}, err
	}
	if h.present("jwk") {
		hk, err := holderKey(h, alg)
		if err != nil {
			return nil, provenKey{}, err
		}
		for _, k := range attested {
			if k.Thumbprint == hk.thumbprint {
				return attested, hk, nil
			}
		}
		return nil, provenKey{}, Errorf(ErrInvalidProof, "the proof's jwk is not one of the attested_keys of its key attestation; sign the proof with an attested key")
	}
	kid, ok, err := h.str("kid")
	if err != nil || !ok || kid == "" || h.present("x5c") {
		return nil, provenKey{}, Errorf(ErrInvalidProof, "name the attested key that signed the proof with jwk or kid")
	}
	for i, k := range attested {
		if (k.KID != "" && k.KID == kid) || (k.KID == "" && kid == strconv.Itoa(i)) {
			if err := keyMatchesAlg(k.Key, alg); err != nil {
				return nil, provenKey{}, err
			}
			return attested, provenKey{key: k.Key, members: k.JWK, thumbprint: k.Thumbprint}, nil
		}
	}
	return nil, provenKey{}, Errorf(ErrInvalidProof, "the proof's kid names none of the attested_keys of its key attestation")
}

// ecCurves are the NIST curves of the ES algorithms with their coordinate sizes.
var ecCurves = map[string]struct {
	alg  string
	size int
}{"P-256": {"ES256", 32}, "P-384": {"ES384", 48}, "P-521": {"ES512", 66}}

// nistCurve reports whether c is one of the curves of ecCurves.
func nistCurve(c elliptic.Curve) bool {
	return c == elliptic.P256() || c == elliptic.P384() || c == elliptic.P521()
}

// checkECMembers checks the members of an EC JWK on a NIST curve that jwk.ParseKey would take without complaint or
// describe vaguely: the curve of alg, and x and y base64url coordinates no longer than the curve's size (shorter
// ones are a dropped leading zero, padded back by jwk.FromRaw). Other curves are left to jwx and keyMatchesAlg.
func checkECMembers(raw jsonObject, alg string) error {
	crv, _, err := raw.str("crv")
	if err != nil {
		return Errorf(ErrInvalidProof, "the jwk header is not a valid public JWK")
	}
	c, known := ecCurves[crv]
	if !known {
		return nil
	}
	if alg != c.alg {
		return Errorf(ErrInvalidProof, "alg %s does not match the EC key on curve %s", algName(alg), crv)
	}
	for _, m := range []string{"x", "y"} {
		v, ok, err := raw.str(m)
		if err != nil || !ok {
			return Errorf(ErrInvalidProof, "the jwk header is not a valid public JWK")
		}
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 || len(b) > c.size {
			return Errorf(ErrInvalidProof, "the jwk header is not a valid public JWK: %s must be the base64url coordinate", m)
		}
	}
	return nil
}

// privateMembers are the JWK members that only private (or symmetric) keys carry (RFC 7518 section 6).
func privateMembers() []string { return []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} }

// hasPrivateMember reports whether a JWK's members include private or symmetric key material.
func hasPrivateMember(m map[string]any) bool {
	for _, name := range privateMembers() {
		if _, ok := m[name]; ok {
			return true
		}
	}
	return false
}

// keyMatchesAlg checks that the key type and curve are the ones alg signs with.
func keyMatchesAlg(key jwk.Key, alg string) error {
	want := map[string]string{
		"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1", "EdDSA": "Ed25519",
	}
	switch k := key.(type) {
	case jwk.ECDSAPublicKey:
		if crv := k.Crv().String(); crv != want[alg] || !strings.HasPrefix(alg, "ES") {
			return Errorf(ErrInvalidProof, "alg %s does not match the EC key on curve %s", algName(alg), curveName(crv))
		}
	case jwk.OKPPublicKey:
		if crv := k.Crv().String(); alg != "EdDSA" || crv != "Ed25519" {
			return Errorf(ErrInvalidProof, "alg %s does not match the OKP key on curve %s; use EdDSA with Ed25519", algName(alg), curveName(crv))
		}
	case jwk.RSAPublicKey:
		if !strings.HasPrefix(alg, "RS") && !strings.HasPrefix(alg, "PS") {
			return Errorf(ErrInvalidProof, "alg %s does not match an RSA key", algName(alg))
		}
		if bits := len(k.N()) * 8; bits < 2048 {
			return Errorf(ErrInvalidProof, "the RSA key has %d bits; at least 2048 are required", bits)
		}
	default:
		return Errorf(ErrInvalidProof, "the jwk header must hold a public key")
	}
	return nil
}

// checkProofClaims checks aud, iat, exp, nbf and nonce and records nonce, iss and jti in p.
func checkProofClaims(c jsonObject, exp ProofExpectations, p *Proof) error {
	if err := checkAudience(c, exp.Audience); err != nil {
		return err
	}
	skew := exp.ClockSkew
	if skew <= 0 {
		skew = DefaultClockSkew
	}
	maxAge := exp.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultProofMaxAge
	}
	iat, ok, err := numericDate(c, "iat")
	if err != nil || !ok {
		return Errorf(ErrInvalidProof, "iat is required: the time the proof was created, in seconds since the epoch")
	}
	if iat.After(exp.Now.Add(skew)) {
		return Errorf(ErrInvalidProof, "iat lies more than %d seconds in the future; check the wallet clock", int(skew.Seconds()))
	}
	if iat.Before(exp.Now.Add(-maxAge)) {
		return Errorf(ErrInvalidProof, "the proof is older than %d seconds (by iat); create a fresh proof", int(maxAge.Seconds()))
	}
	p.IssuedAt = iat
	if e, ok, err := numericDate(c, "exp"); err != nil {
		return Errorf(ErrInvalidProof, "exp must be a number of seconds since the epoch")
	} else if ok && exp.Now.After(e.Add(skew)) {
		return Errorf(ErrInvalidProof, "the proof has expired (exp); create a fresh proof")
	}
	if nbf, ok, err := numericDate(c, "nbf"); err != nil {
		return Errorf(ErrInvalidProof, "nbf must be a number of seconds since the epoch")
	} else if ok && nbf.After(exp.Now.Add(skew)) {
		return Errorf(ErrInvalidProof, "the proof is not valid yet (nbf); check the wallet clock")
	}
	iss, _, err := c.str("iss")
	if err != nil {
		return Errorf(ErrInvalidProof, "iss must be a string: the client_id of the wallet")
	}
	jti, _, err := c.str("jti")
	if err != nil {
		return Errorf(ErrInvalidProof, "jti must be a string")
	}
	p.Issuer, p.JTI = iss, jti
	return checkNonce(c, exp, p)
}

func checkAudience(c jsonObject, audience string) error {
	const fix = "aud must be the credential issuer identifier %s"
	if !c.present("aud") {
		return Errorf(ErrInvalidProof, fix, audience)
	}
	if one, ok, err := c.str("aud"); err == nil && ok {
		if one != audience {
			return Errorf(ErrInvalidProof, fix+", byte for byte", audience)
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(c["aud"], &many); err != nil {
		return Errorf(ErrInvalidProof, "aud must be a string (or an array of strings): "+fix, audience)
	}
	if !contains(many, audience) {
		return Errorf(ErrInvalidProof, fix, audience)
	}
	return nil
}

func checkNonce(c jsonObject, exp ProofExpectations, p *Proof) error {
	nonce, ok, err := c.str("nonce")
	if err != nil {
		return Errorf(ErrInvalidProof, "nonce must be a string: the c_nonce from the nonce endpoint")
	}
	if !ok || nonce == "" {
		if exp.RequireNonce {
			return Errorf(ErrInvalidProof, "the proof has no nonce: fetch a c_nonce from the nonce endpoint and put it in the nonce claim")
		}
		return nil
	}
	p.Nonce = nonce
	if exp.ExpectedNonce != "" && subtle.ConstantTimeCompare([]byte(nonce), []byte(exp.ExpectedNonce)) != 1 {
		return Errorf(ErrInvalidNonce, "the nonce is not the current c_nonce; fetch a new one from the nonce endpoint and create a new proof")
	}
	if exp.NonceCheck != nil {
		if err := exp.NonceCheck(nonce); err != nil {
			if errors.Is(err, ErrNonceRejected) {
				return Errorf(ErrInvalidNonce, "the c_nonce is unknown, expired or used; fetch a new one from the nonce endpoint and create a new proof")
			}
			return fmt.Errorf("validate proof: check nonce: %w", err)
		}
	}
	return nil
}

// numericDate reads a NumericDate claim (RFC 7519: seconds since the epoch, possibly fractional).
func numericDate(c jsonObject, name string) (time.Time, bool, error) {
	if !c.present(name) {
		return time.Time{}, false, nil
	}
	// Members come from a document the strict decoder accepted, so a value of kind number is a JSON number, whose
	// grammar strconv.ParseFloat accepts.
	raw := c[name]
	if raw.Kind() != '0' {
		return time.Time{}, false, fmt.Errorf("%s is not a number", name)
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return time.Time{}, false, fmt.Errorf("%s is out of range", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// publicMembers keeps only the members that describe the public key, dropping kid, use, alg and anything else the
// wallet added, so the credential's cnf.jwk carries the key and nothing that could identify the wallet further.
func publicMembers(key jwk.Key) (map[string]any, error) {
	all, err := keyMap(key)
	if err != nil {
		return nil, err
	}
	keep := map[string][]string{"EC": {"kty", "crv", "x", "y"}, "OKP": {"kty", "crv", "x"}, "RSA": {"kty", "n", "e"}}
	kty, _ := all["kty"].(string)
	out := map[string]any{}
	for _, m := range keep[kty] {
		if v, ok := all[m]; ok {
			out[m] = v
		}
	}
	if len(out) == 0 {
		return nil, errors.New("unsupported key type")
	}
	return out, nil
}

// asymmetricAlg reports whether alg is a registered asymmetric JWS algorithm.
func asymmetricAlg(alg string) bool {
	switch alg {
	case "ES256", "ES384", "ES512", "ES256K", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return true
	}
	return false
}

// algName echoes alg into a description only when it is a registered name, never arbitrary wallet text.
func algName(alg string) string {
	if asymmetricAlg(alg) {
		return alg
	}
	return "(unrecognised)"
}

func curveName(crv string) string {
	switch crv {
	case "P-256", "P-384", "P-521", "secp256k1", "Ed25519", "Ed448", "X25519", "X448":
		return crv
	}
	return "(unrecognised)"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
