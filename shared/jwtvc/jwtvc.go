package jwtvc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// Format is the OID4VCI credential format identifier.
const Format = "jwt_vc_json"

// Fixed values of the VCDM 1.1 JWT encoding.
const (
	// ContextV1 is the VCDM 1.1 base context, the only `@context` entry (jwt_vc_json is not processed as JSON-LD).
	ContextV1 = "https://www.w3.org/2018/credentials/v1"
	// TypeVerifiableCredential must be among a credential's types.
	TypeVerifiableCredential = "VerifiableCredential"
	// StatusType is the `type` of vc.credentialStatus pointing at a Token Status List entry.
	StatusType = "TokenStatusList"
	// HeaderType is the JWS `typ`.
	HeaderType = "JWT"
)

// Errors, checked with errors.Is.
var (
	// ErrInvalidCredential reports issuer input that cannot be issued.
	ErrInvalidCredential = errors.New("invalid jwt_vc_json credential")
	// ErrSignature reports a signature that could not be made or does not verify.
	ErrSignature = errors.New("invalid jwt_vc_json signature")
	// ErrInvalidToken reports a token that is not a valid VCDM 1.1 JWT of this profile.
	ErrInvalidToken = errors.New("invalid jwt_vc_json token")
)

// Signer is the issuer's signing key: a keys.Signer (the KMS key or a local P-256 key), through which
// keys.SignJWS signs the credential with jws.Sign.
type Signer = keys.Signer

// StatusReference points at the credential's entry in a Token Status List.
type StatusReference struct {
	Index int64
	URI   string
}

// Credential is a W3C VC to issue as a JWT.
type Credential struct {
	// Issuer is `iss` and vc.issuer: the credential issuer identifier.
	Issuer string
	// Types is vc.type; it must contain "VerifiableCredential".
	Types []string
	// ID is `jti` and vc.id (a URI); empty: a fresh "urn:uuid:" v4.
	ID string
	// IssuedAt is `iat`, `nbf` and vc.issuanceDate; required.
	IssuedAt time.Time
	// Expiry is `exp` and vc.expirationDate; zero omits them.
	Expiry time.Time
	// HolderKey is the wallet's public key: `cnf.jwk`, and as did:jwk `sub` and credentialSubject.id. nil: an
	// unbound credential.
	HolderKey jwk.Key
	// Status is the Token Status List entry; nil omits `status` and vc.credentialStatus.
	Status *StatusReference
	// Subject are the credentialSubject claims, as decoded from JSON; "id" is the issuer's to set.
	Subject map[string]any
}

// vcClaim is the `vc` claim.
type vcClaim struct {
	Context           []string          `json:"@context"`
	ID                string            `json:"id"`
	Type              []string          `json:"type"`
	Issuer            string            `json:"issuer"`
	IssuanceDate      string            `json:"issuanceDate"`
	ExpirationDate    string            `json:"expirationDate,omitempty"`
	CredentialSubject map[string]any    `json:"credentialSubject"`
	CredentialStatus  *credentialStatus `json:"credentialStatus,omitempty"`
}

type credentialStatus struct {
	ID         string        `json:"id"`
	Type       string        `json:"type"`
	StatusList statusListRef `json:"status_list"`
}

type statusListRef struct {
	Idx int64  `json:"idx"`
	URI string `json:"uri"`
}

type statusClaim struct {
	StatusList statusListRef `json:"status_list"`
}

type cnfClaim struct {
	JWK json.RawMessage `json:"jwk"`
}

// payload is the JWT claims set.
type payload struct {
	Issuer    string       `json:"iss"`
	Subject   string       `json:"sub,omitempty"`
	JTI       string       `json:"jti"`
	IssuedAt  int64        `json:"iat"`
	NotBefore int64        `json:"nbf"`
	Expiry    int64        `json:"exp,omitempty"`
	CNF       *cnfClaim    `json:"cnf,omitempty"`
	Status    *statusClaim `json:"status,omitempty"`
	VC        vcClaim      `json:"vc"`
}

// Issue builds and signs the credential as a compact JWS through keys.SignJWS: one signature.
func Issue(ctx context.Context, s Signer, c Credential) (string, error) {
	if s == nil {
		return "", fmt.Errorf("issue jwt_vc_json: %w: no signer", ErrSignature)
	}
	p, err := build(c, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("issue jwt_vc_json: %w", err)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("issue jwt_vc_json: %w: claims cannot be encoded as JSON: %w", ErrInvalidCredential, err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, HeaderType); err != nil {
		return "", fmt.Errorf("issue jwt_vc_json: header typ: %w", err)
	}
	out, err := keys.SignJWS(ctx, s, body, hdr)
	if err != nil {
		return "", fmt.Errorf("issue jwt_vc_json: %w: %w", ErrSignature, err)
	}
	return string(out), nil
}

// build checks c and lays out its claims.
func build(c Credential, r io.Reader) (*payload, error) {
	if c.Issuer == "" || !utf8.ValidString(c.Issuer) {
		return nil, fmt.Errorf("%w: issuer is required", ErrInvalidCredential)
	}
	if err := checkTypes(c.Types); err != nil {
		return nil, err
	}
	if c.IssuedAt.IsZero() {
		return nil, fmt.Errorf("%w: the issuance time is required", ErrInvalidCredential)
	}
	issued := c.IssuedAt.UTC().Truncate(time.Second)
	if !c.Expiry.IsZero() && !c.Expiry.Truncate(time.Second).After(issued) {
		return nil, fmt.Errorf("%w: expiry is not after issuance", ErrInvalidCredential)
	}
	if _, ok := c.Subject["id"]; ok {
		return nil, fmt.Errorf("%w: credentialSubject.id is set by the issuer (the holder's did:jwk); remove it", ErrInvalidCredential)
	}
	id := c.ID
	if id == "" {
		var err error
		if id, err = uuidURN(r); err != nil {
			return nil, err
		}
	}
	subject := make(map[string]any, len(c.Subject)+1)
	for k, v := range c.Subject {
		subject[k] = v
	}
	p := &payload{
		Issuer:    c.Issuer,
		JTI:       id,
		IssuedAt:  issued.Unix(),
		NotBefore: issued.Unix(),
		VC: vcClaim{
			Context:           []string{ContextV1},
			ID:                id,
			Type:              slices.Clone(c.Types),
			Issuer:            c.Issuer,
			IssuanceDate:      issued.Format(time.RFC3339),
			CredentialSubject: subject,
		},
	}
	if !c.Expiry.IsZero() {
		exp := c.Expiry.UTC().Truncate(time.Second)
		p.Expiry = exp.Unix()
		p.VC.ExpirationDate = exp.Format(time.RFC3339)
	}
	if c.HolderKey != nil {
		pub, err := publicJWKJSON(c.HolderKey)
		if err != nil {
			return nil, err
		}
		did := DIDJWK(pub)
		p.Subject = did
		subject["id"] = did
		p.CNF = &cnfClaim{JWK: pub}
	}
	if c.Status != nil {
		if c.Status.Index < 0 || c.Status.URI == "" {
			return nil, fmt.Errorf("%w: status: a non-negative index and a uri are required", ErrInvalidCredential)
		}
		ref := statusListRef{Idx: c.Status.Index, URI: c.Status.URI}
		p.Status = &statusClaim{StatusList: ref}
		p.VC.CredentialStatus = &credentialStatus{
			ID:         c.Status.URI + "#" + strconv.FormatInt(c.Status.Index, 10),
			Type:       StatusType,
			StatusList: ref,
		}
	}
	return p, nil
}

// checkTypes accepts a list of distinct non-empty type names that includes VerifiableCredential.
func checkTypes(types []string) error {
	if !slices.Contains(types, TypeVerifiableCredential) {
		return fmt.Errorf("%w: type must include %q", ErrInvalidCredential, TypeVerifiableCredential)
	}
	seen := make(map[string]bool, len(types))
	for i, t := range types {
		if t == "" || !utf8.ValidString(t) {
			return fmt.Errorf("%w: type[%d] is empty or not valid UTF-8", ErrInvalidCredential, i)
		}
		if seen[t] {
			return fmt.Errorf("%w: type[%d] repeats %q", ErrInvalidCredential, i, t)
		}
		seen[t] = true
	}
	return nil
}

// publicJWKJSON is the holder key as a public JWK holding only the members that define the key (those of its
// RFC 7638 thumbprint), so neither a private member nor a wallet's extra members reach the credential.
func publicJWKJSON(key jwk.Key) (json.RawMessage, error) {
	pub, err := key.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: holder key: %w", ErrInvalidCredential, err)
	}
	full, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: holder key: %w", ErrInvalidCredential, err)
	}
	var members map[string]any
	if err := json.Unmarshal(full, &members); err != nil {
		return nil, fmt.Errorf("%w: holder key: %w", ErrInvalidCredential, err)
	}
	var keep []string
	switch pub.KeyType() {
	case jwa.EC:
		keep = []string{"crv", "kty", "x", "y"}
	case jwa.OKP:
		keep = []string{"crv", "kty", "x"}
	case jwa.RSA:
		keep = []string{"e", "kty", "n"}
	default:
		return nil, fmt.Errorf("%w: holder key of type %s", ErrInvalidCredential, pub.KeyType())
	}
	out := make(map[string]any, len(keep))
	for _, k := range keep {
		v, ok := members[k]
		if !ok {
			return nil, fmt.Errorf("%w: holder key without %q", ErrInvalidCredential, k)
		}
		out[k] = v
	}
	b, err := json.Marshal(out) // members in sorted order, the thumbprint's
	if err != nil {
		return nil, fmt.Errorf("%w: holder key: %w", ErrInvalidCredential, err)
	}
	return b, nil
}

// DIDJWK is the did:jwk of a public JWK's JSON: "did:jwk:" and its base64url.
func DIDJWK(publicJWK []byte) string {
	return "did:jwk:" + base64.RawURLEncoding.EncodeToString(publicJWK)
}

// uuidURN is a random (version 4) UUID as a URN.
func uuidURN(r io.Reader) (string, error) {
	var u [16]byte
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return "", fmt.Errorf("%w: credential id: %w", ErrSignature, err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}
