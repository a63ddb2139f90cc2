package definition

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// Credential formats (the seed's values). dc+sd-jwt is the SD-JWT VC media type of OID4VCI 1.0; vc+sd-jwt is the
// name draft-13 wallets and older definitions use for the same credential, accepted so such definitions keep
// working. mso_mdoc is an ISO/IEC 18013-5 mdoc; jwt_vc_json a W3C VC Data Model 1.1 credential secured as a JWT.
const (
	FormatSDJWT       = "dc+sd-jwt"
	FormatSDJWTLegacy = "vc+sd-jwt"
	FormatMdoc        = "mso_mdoc"
	FormatJWTVC       = "jwt_vc_json"
)

// Limits of a credential definition.
const (
	MaxExpirationInDays = 3650
	MaxClaims           = 200
	MaxPathElements     = 16
	MaxDisplays         = 20
	maxLabelLen         = 256
	maxVCTLen           = 2048
	maxNameLen          = 256
	maxLocaleLen        = 35
	maxClaimNameLen     = 256
	maxIndexElement     = 1 << 20
)

// MaxBytes bounds the JSON of a definition: every exchange keeps a copy of it in its record.
const MaxBytes = 64 << 10

// IsReservedClaim reports whether a top-level claim name is one the issuer sets itself (iss, vct, iat, nbf, exp,
// cnf, status, vct#integrity) or an SD-JWT structural name: never selectively disclosable, never a subject claim.
func IsReservedClaim(name string) bool { return sdjwt.IsReservedClaim(name) }

// Display is how a wallet shows a credential or a claim in one locale.
type Display struct {
	Name            string `json:"name"`
	Locale          string `json:"locale,omitempty"`
	Description     string `json:"description,omitempty"`
	BackgroundColor string `json:"backgroundColor,omitempty"`
	TextColor       string `json:"textColor,omitempty"`
	Logo            *Logo  `json:"logo,omitempty"`
}

// Logo is a display image referenced by URI.
type Logo struct {
	URI     string `json:"uri"`
	AltText string `json:"altText,omitempty"`
}

// Claim is one claim path of a definition: a path into the credential subject (strings name object members,
// null means every element of an array, a non-negative integer one element), whether it is selectively
// disclosable, and how wallets show it.
//
// In an mso_mdoc definition the path is [namespace, data element identifier], every element is disclosed on its
// own (limitDisclosure says nothing more), and ValueType may give the element's CBOR type where JSON has none.
type Claim struct {
	Path            []any     `json:"path"`
	Mandatory       bool      `json:"mandatory,omitempty"`
	LimitDisclosure bool      `json:"limitDisclosure"`
	ValueType       string    `json:"valueType,omitempty"`
	Display         []Display `json:"display,omitempty"`
}

// Spec is what an organisation sends to create or replace a credential definition. Its type is named by the
// member of its format: vct (dc+sd-jwt), doctype (mso_mdoc) or type (jwt_vc_json).
type Spec struct {
	Label            string `json:"label"`
	CredentialFormat string `json:"credentialFormat"`
	VCT              string `json:"vct,omitempty"`
	// DocType is the ISO 18013-5 document type of an mso_mdoc definition, e.g. "org.iso.18013.5.1.mDL".
	DocType string `json:"doctype,omitempty"`
	// Type is the W3C VC type list of a jwt_vc_json definition, "VerifiableCredential" among them.
	Type              []string  `json:"type,omitempty"`
	ExpirationInDays  int       `json:"expirationInDays"`
	SupportRevocation bool      `json:"supportRevocation"`
	Claims            []Claim   `json:"claims"`
	Display           []Display `json:"display"`
	// EncryptionRequired makes wallets encrypt the credential responses of this definition
	// (credential_response_encryption); the deployment's setting applies to every definition in any case.
	EncryptionRequired bool `json:"encryptionRequired,omitempty"`
	// AuthorizationPolicy: wallet-initiated issuance and the holder authentication of the authorization code flow.
	AuthorizationPolicy
	// RequireDPoP, when set, overrides the deployment default (REQUIRE_DPOP): true refuses token requests without
	// a DPoP proof, so every access token of the definition is DPoP-bound.
	RequireDPoP *bool `json:"requireDpop,omitempty"`
	// RequireClientAttestation refuses token requests without a valid OAuth client attestation of a trusted wallet
	// provider.
	RequireClientAttestation bool `json:"requireClientAttestation,omitempty"`
	// KeyAttestationsRequired, when set, requires a key attestation of a trusted wallet provider for the holder
	// keys (OpenID4VCI 1.0 key_attestations_required); its lists are the accepted attack potential resistance
	// values (empty: any).
	KeyAttestationsRequired *KeyAttestationsRequired `json:"keyAttestationsRequired,omitempty"`
}

// KeyAttestationsRequired is a definition's key attestation requirement.
type KeyAttestationsRequired struct {
	KeyStorage         []string `json:"keyStorage"`
	UserAuthentication []string `json:"userAuthentication"`
}

// Limits of keyAttestationsRequired.
const (
	maxResistanceValues   = 10
	maxResistanceValueLen = 256
)

// DPoPRequired is whether the definition refuses bearer access tokens, with deploymentDefault for an unset
// requireDpop.
func (s *Spec) DPoPRequired(deploymentDefault bool) bool {
	if s.RequireDPoP != nil {
		return *s.RequireDPoP
	}
	return deploymentDefault
}

// Definition is a stored definition: one credential configuration of the issuer metadata.
type Definition struct {
	ID string `json:"credentialDefinitionId"`
	Spec
	CreatedAt int64 `json:"createdAt"`
	UpdatedAt int64 `json:"updatedAt"`
	// Version increments on every write; the store's conditional writes compare it.
	Version int64 `json:"-"`
	// CreatedNanos orders definitions created within the same second (not rendered).
	CreatedNanos int64 `json:"-"`
}

// ConfigurationID is the credential_configuration_id of the definition in the issuer metadata and in offers.
func (d *Definition) ConfigurationID() string { return d.ID }

// Normalize validates the spec and brings it into its canonical form: default format, path elements as string,
// nil or int, empty lists instead of nil. The error is a *validation.Error naming the field.
func (s *Spec) Normalize() error {
	s.Label = strings.TrimSpace(s.Label)
	switch {
	case s.Label == "":
		return validation.Invalid("label", "is required: a human-readable name of the definition")
	case utf8.RuneCountInString(s.Label) > maxLabelLen:
		return validation.Invalid("label", "is longer than %d characters", maxLabelLen)
	case !validation.Printable(s.Label):
		return validation.Invalid("label", "must not contain control characters")
	}
	if s.CredentialFormat == "" {
		s.CredentialFormat = FormatSDJWT
	}
	if err := s.normalizeType(); err != nil {
		return err
	}
	if s.ExpirationInDays <= 0 || s.ExpirationInDays > MaxExpirationInDays {
		return validation.Invalid("expirationInDays", "must be a whole number of days from 1 to %d", MaxExpirationInDays)
	}
	if err := s.normalizeClaims(); err != nil {
		return err
	}
	if err := validateDisplays("display", s.Display); err != nil {
		return err
	}
	if err := s.normalizeAuthorization(); err != nil {
		return err
	}
	if s.Display == nil {
		s.Display = []Display{}
	}
	if err := s.normalizeKeyAttestations(); err != nil {
		return err
	}
	return s.checkSize()
}

// normalizeKeyAttestations checks keyAttestationsRequired: each list holds at most maxResistanceValues distinct,
// non-empty, printable values (iso_18045_high, ... or an ecosystem's own, preferably a URL).
func (s *Spec) normalizeKeyAttestations() error {
	k := s.KeyAttestationsRequired
	if k == nil {
		return nil
	}
	for _, f := range []struct {
		name string
		list *[]string
	}{{"keyStorage", &k.KeyStorage}, {"userAuthentication", &k.UserAuthentication}} {
		field := "keyAttestationsRequired." + f.name
		if len(*f.list) > maxResistanceValues {
			return validation.Invalid(field, "has more than %d values", maxResistanceValues)
		}
		seen := map[string]bool{}
		for i, v := range *f.list {
			switch {
			case v == "" || len(v) > maxResistanceValueLen || !validation.Printable(v) || strings.ContainsAny(v, " \t\"\\"):
				return validation.Invalid(fmt.Sprintf("%s[%d]", field, i), "must be an attack potential resistance "+
					"value such as \"iso_18045_high\" (at most %d characters, no spaces or quotes)", maxResistanceValueLen)
			case seen[v]:
				return validation.Invalid(fmt.Sprintf("%s[%d]", field, i), "repeats an earlier value")
			}
			seen[v] = true
		}
		if *f.list == nil {
			*f.list = []string{}
		}
	}
	return nil
}

// checkSize refuses a definition whose JSON exceeds MaxBytes (ErrTooLarge), naming the larger of its
// two lists.
func (s *Spec) checkSize() error {
	b, err := json.Marshal(s)
	if err != nil {
		return validation.Invalid("claims", "cannot be encoded as JSON")
	}
	if len(b) <= MaxBytes {
		return nil
	}
	field := "claims"
	claims, _ := json.Marshal(s.Claims)
	display, _ := json.Marshal(s.Display)
	if len(display) > len(claims) {
		field = "display"
	}
	return validation.TooLarge(field, "makes the definition %d bytes long, more than %d KiB; every exchange keeps a copy "+
		"of its definition, so shorten the display texts or describe fewer claims", len(b), MaxBytes>>10)
}

// ValidateVCT checks that a vct is a usable credential type: non-empty, no whitespace or control characters,
// bounded, and a well-formed absolute URI when it contains a colon (SD-JWT VC: StringOrURI).
func ValidateVCT(vct string) error {
	if vct == "" {
		return fmt.Errorf("is required: the SD-JWT VC type, e.g. \"PortableDocumentA1\" or an https URI")
	}
	if len(vct) > maxVCTLen {
		return fmt.Errorf("is longer than %d characters", maxVCTLen)
	}
	if !utf8.ValidString(vct) {
		return fmt.Errorf("is not valid UTF-8")
	}
	for _, r := range vct {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("must not contain whitespace or control characters")
		}
	}
	if strings.Contains(vct, ":") {
		u, err := url.Parse(vct)
		if err != nil || u.Scheme == "" {
			return fmt.Errorf("contains a colon, so it must be an absolute URI (StringOrURI)")
		}
	}
	return nil
}

// NormalizeClaims validates claim paths and returns them with every element as string, nil or int. Errors are
// *validation.Error naming e.g. "claims[2].path[1]".
func NormalizeClaims(claims []Claim) ([]Claim, error) {
	if len(claims) > MaxClaims {
		return nil, validation.Invalid("claims", "has more than %d entries", MaxClaims)
	}
	out := make([]Claim, 0, len(claims))
	seen := make(map[string]bool, len(claims))
	for i, c := range claims {
		field := fmt.Sprintf("claims[%d]", i)
		path, err := NormalizePath(field+".path", c.Path)
		if err != nil {
			return nil, err
		}
		key := pathKey(path)
		if seen[key] {
			return nil, validation.Invalid(field+".path", "names the same claim as an earlier entry")
		}
		seen[key] = true
		if err := validateDisplays(field+".display", c.Display); err != nil {
			return nil, err
		}
		c.Path = path
		out = append(out, c)
	}
	if _, err := Policy(out); err != nil {
		// Structural conflicts between paths (an array used as an object): name the first rule that causes one.
		for i := 1; i <= len(out); i++ {
			if _, perr := Policy(out[:i]); perr != nil {
				return nil, validation.Invalid(fmt.Sprintf("claims[%d].path", i-1), "conflicts with an earlier path: %v", perr)
			}
		}
		return nil, validation.Invalid("claims", "%v", err)
	}
	if err := metadataClaims(out); err != nil {
		return nil, err
	}
	return out, nil
}

// metadataClaims applies the wallet-facing rules of the issuer metadata's claims descriptions (OpenID4VCI 1.0
// appendix B.3, e.g. an array addressed both with null and with an index), which are stricter than the disclosure
// policy: the metadata leaves out a configuration that breaks them, so such a definition is refused here, naming
// the first path that causes the conflict.
func metadataClaims(claims []Claim) error {
	descs := make([]oid4vci.ClaimDescription, 0, len(claims))
	for i, c := range claims {
		path, err := oid4vci.NormalizeClaimPath(c.Path)
		if err != nil {
			return validation.Invalid(fmt.Sprintf("claims[%d].path", i), "%v", err)
		}
		descs = append(descs, oid4vci.ClaimDescription{Path: path})
		if _, err := oid4vci.ValidateClaims(descs); err != nil {
			return validation.Invalid(fmt.Sprintf("claims[%d].path", i), "conflicts with an earlier path: %v; the issuer "+
				"metadata cannot describe both, so address each array one way only", err)
		}
	}
	return nil
}

// Policy compiles claims into the SD-JWT disclosure policy the credential is issued with.
func Policy(claims []Claim) (*sdjwt.Policy, error) {
	rules := make([]sdjwt.ClaimRule, 0, len(claims))
	for _, c := range claims {
		p, err := sdjwt.ParseClaimPath(c.Path)
		if err != nil {
			return nil, fmt.Errorf("compile disclosure policy: %w", err)
		}
		rules = append(rules, sdjwt.ClaimRule{Path: p, LimitDisclosure: c.LimitDisclosure})
	}
	pol, err := sdjwt.NewPolicy(rules)
	if err != nil {
		return nil, fmt.Errorf("compile disclosure policy: %w", err)
	}
	return pol, nil
}

// NormalizePath validates one claim path (field names it in errors).
func NormalizePath(field string, path []any) ([]any, error) {
	if len(path) == 0 {
		return nil, validation.Invalid(field, "must be a non-empty array, e.g. [\"given_name\"]")
	}
	if len(path) > MaxPathElements {
		return nil, validation.Invalid(field, "has more than %d elements", MaxPathElements)
	}
	out := make([]any, len(path))
	for j, el := range path {
		elField := fmt.Sprintf("%s[%d]", field, j)
		switch v := el.(type) {
		case string:
			switch {
			case v == "":
				return nil, validation.Invalid(elField, "must not be an empty string")
			case len(v) > maxClaimNameLen:
				return nil, validation.Invalid(elField, "is longer than %d bytes", maxClaimNameLen)
			case v == "_sd" || v == "_sd_alg" || v == "...":
				return nil, validation.Invalid(elField, "%q is reserved by SD-JWT", v)
			case j == 0 && IsReservedClaim(v):
				return nil, validation.Invalid(elField, "%q is set by the issuer and is never a credential subject claim", v)
			}
			out[j] = v
		case nil:
			if j == 0 {
				return nil, validation.Invalid(elField, "the first element must be a claim name (a string)")
			}
			out[j] = nil
		default:
			n, ok := pathIndex(v)
			if !ok {
				return nil, validation.Invalid(elField, "must be a string (claim name), null (every array element) or a non-negative integer (array index)")
			}
			if j == 0 {
				return nil, validation.Invalid(elField, "the first element must be a claim name (a string)")
			}
			out[j] = n
		}
	}
	return out, nil
}

// pathIndex accepts the numeric forms JSON decoding and DynamoDB produce.
func pathIndex(v any) (int, bool) {
	var f float64
	switch n := v.(type) {
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case float64:
		f = n
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, false
		}
		f = x
	default:
		return 0, false
	}
	if f < 0 || f > maxIndexElement || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}

func pathKey(path []any) string {
	b, _ := json.Marshal(path)
	return string(b)
}

func validateDisplays(field string, ds []Display) error {
	if len(ds) > MaxDisplays {
		return validation.Invalid(field, "has more than %d entries", MaxDisplays)
	}
	for i, d := range ds {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case strings.TrimSpace(d.Name) == "":
			return validation.Invalid(f+".name", "is required")
		case utf8.RuneCountInString(d.Name) > maxNameLen:
			return validation.Invalid(f+".name", "is longer than %d characters", maxNameLen)
		case len(d.Locale) > maxLocaleLen || !localeLike(d.Locale):
			return validation.Invalid(f+".locale", "must be a BCP 47 language tag such as \"en-GB\"")
		}
		if d.Logo != nil {
			if u, err := url.Parse(d.Logo.URI); err != nil || (u.Scheme != "https" && u.Scheme != "data") {
				return validation.Invalid(f+".logo.uri", "must be an https or data URI")
			}
		}
	}
	return nil
}

func localeLike(s string) bool {
	for _, r := range s {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
