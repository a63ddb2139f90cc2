package definition

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sdjwt-issuer/issuer/shared/mdoc"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// Value types of an mso_mdoc claim (Claim.ValueType): the CBOR types of 18013-5 data elements that JSON has no
// form of. Without one, a JSON value is issued as itself (text, number, boolean, null, array, map).
const (
	// ValueTypeFullDate issues a "YYYY-MM-DD" string as full-date (tag 1004): birth_date, issue_date, ...
	ValueTypeFullDate = "full-date"
	// ValueTypeDateTime issues an RFC 3339 string as tdate (tag 0).
	ValueTypeDateTime = "tdate"
	// ValueTypeBytes issues a base64 or base64url string as a byte string: portrait, signature_usual_mark, ...
	ValueTypeBytes = "bytes"
)

// Limits of the format-specific members.
const (
	maxTypes   = 16
	maxTypeLen = 256
)

// Formats lists the credential formats a definition may have.
func Formats() []string { return []string{FormatSDJWT, FormatMdoc, FormatJWTVC, FormatSDJWTLegacy} }

// IsSDJWT reports whether format is SD-JWT VC (dc+sd-jwt or its draft name vc+sd-jwt).
func IsSDJWT(format string) bool { return format == FormatSDJWT || format == FormatSDJWTLegacy }

// TypeName is the one name of the credential type: the vct (SD-JWT VC), the doctype (mdoc) or the last element of
// type (JWT VC, the most specific type), which an issue request's credential.type must match.
func (s *Spec) TypeName() string {
	switch s.CredentialFormat {
	case FormatMdoc:
		return s.DocType
	case FormatJWTVC:
		if len(s.Type) == 0 {
			return ""
		}
		return s.Type[len(s.Type)-1]
	default:
		return s.VCT
	}
}

// Types is the type list the history record shows for the credential: type for a JWT VC, else the one name.
func (s *Spec) Types() []string {
	if s.CredentialFormat == FormatJWTVC {
		return slices.Clone(s.Type)
	}
	return []string{s.TypeName()}
}

// normalizeType checks the format and the member that names the type in it, and that the members of other formats
// are absent (a definition with both a vct and a doctype would say two things).
func (s *Spec) normalizeType() error {
	switch s.CredentialFormat {
	case FormatSDJWT, FormatSDJWTLegacy:
		if err := ValidateVCT(s.VCT); err != nil {
			return validation.Invalid("vct", "%s", err.Error())
		}
		if s.DocType != "" {
			return validation.Invalid("doctype", "belongs to credentialFormat %q; a %s definition names its type with vct", FormatMdoc, s.CredentialFormat)
		}
		if s.Type != nil {
			return validation.Invalid("type", "belongs to credentialFormat %q; a %s definition names its type with vct", FormatJWTVC, s.CredentialFormat)
		}
	case FormatMdoc:
		if err := validateDocType(s.DocType); err != nil {
			return validation.Invalid("doctype", "%s", err.Error())
		}
		if s.VCT != "" {
			return validation.Invalid("vct", "belongs to SD-JWT VC; an %s definition names its type with doctype", FormatMdoc)
		}
		if s.Type != nil {
			return validation.Invalid("type", "belongs to credentialFormat %q; an %s definition names its type with doctype", FormatJWTVC, FormatMdoc)
		}
	case FormatJWTVC:
		if err := validateVCTypes(s.Type); err != nil {
			return err
		}
		if s.VCT != "" {
			return validation.Invalid("vct", "belongs to SD-JWT VC; a %s definition names its types with type", FormatJWTVC)
		}
		if s.DocType != "" {
			return validation.Invalid("doctype", "belongs to credentialFormat %q; a %s definition names its types with type", FormatMdoc, FormatJWTVC)
		}
	default:
		return validation.Invalid("credentialFormat", "%q is not supported; use one of %s", s.CredentialFormat,
			strings.Join(Formats(), ", "))
	}
	return nil
}

// validateDocType accepts a document type such as "org.iso.18013.5.1.mDL": non-empty, bounded, no whitespace or
// control characters.
func validateDocType(docType string) error {
	if docType == "" {
		return fmt.Errorf("is required for %s: the ISO 18013-5 document type, e.g. \"org.iso.18013.5.1.mDL\" or "+
			"\"eu.europa.ec.eudi.pid.1\"", FormatMdoc)
	}
	if len(docType) > mdoc.MaxDocTypeLen {
		return fmt.Errorf("is longer than %d bytes", mdoc.MaxDocTypeLen)
	}
	if !utf8.ValidString(docType) {
		return fmt.Errorf("is not valid UTF-8")
	}
	for _, r := range docType {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("must not contain whitespace or control characters")
		}
	}
	return nil
}

// validateVCTypes accepts a W3C VC type list: distinct non-empty names without whitespace, VerifiableCredential
// among them (VC Data Model 1.1 section 4.3).
func validateVCTypes(types []string) error {
	if len(types) == 0 {
		return validation.Invalid("type", "is required for %s: the credential's types, e.g. [\"VerifiableCredential\", "+
			"\"EmployeeID\"]", FormatJWTVC)
	}
	if len(types) > maxTypes {
		return validation.Invalid("type", "has more than %d entries", maxTypes)
	}
	seen := map[string]bool{}
	for i, t := range types {
		field := fmt.Sprintf("type[%d]", i)
		switch {
		case t == "" || len(t) > maxTypeLen:
			return validation.Invalid(field, "must be a non-empty string of at most %d bytes", maxTypeLen)
		case !utf8.ValidString(t) || strings.IndexFunc(t, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			return validation.Invalid(field, "must not contain whitespace or control characters")
		case seen[t]:
			return validation.Invalid(field, "repeats %q", t)
		}
		seen[t] = true
	}
	if !seen["VerifiableCredential"] {
		return validation.Invalid("type", "must include \"VerifiableCredential\" (VC Data Model 1.1)")
	}
	return nil
}

// normalizeClaims validates the claims by the rules of the format.
func (s *Spec) normalizeClaims() error {
	var (
		claims []Claim
		err    error
	)
	if s.CredentialFormat == FormatMdoc {
		claims, err = normalizeMdocClaims(s.Claims)
	} else {
		claims, err = NormalizeClaims(s.Claims)
	}
	if err != nil {
		return err
	}
	for i, c := range claims {
		field := fmt.Sprintf("claims[%d]", i)
		if c.ValueType != "" && s.CredentialFormat != FormatMdoc {
			return validation.Invalid(field+".valueType", "is for %s data elements; remove it", FormatMdoc)
		}
		if s.CredentialFormat != FormatJWTVC {
			continue
		}
		if c.LimitDisclosure {
			return validation.Invalid(field+".limitDisclosure", "a %s credential has no selective disclosure; "+
				"remove it, or use credentialFormat %q or %q", FormatJWTVC, FormatSDJWT, FormatMdoc)
		}
		if c.Path[0] == "id" {
			return validation.Invalid(field+".path[0]", "credentialSubject.id is set by the issuer (the holder's did:jwk)")
		}
	}
	s.Claims = claims
	return nil
}

// normalizeMdocClaims validates mso_mdoc claims: each path [namespace, data element identifier], no repeats, a
// known valueType.
func normalizeMdocClaims(claims []Claim) ([]Claim, error) {
	if len(claims) > MaxClaims {
		return nil, validation.Invalid("claims", "has more than %d entries", MaxClaims)
	}
	out := make([]Claim, 0, len(claims))
	seen := map[string]bool{}
	for i, c := range claims {
		field := fmt.Sprintf("claims[%d]", i)
		if len(c.Path) != 2 {
			return nil, validation.Invalid(field+".path", "must be [namespace, data element identifier], e.g. "+
				"[\"org.iso.18013.5.1\", \"given_name\"]")
		}
		path := make([]any, 2)
		for j, el := range c.Path {
			name, ok := el.(string)
			elField := fmt.Sprintf("%s.path[%d]", field, j)
			switch {
			case !ok || name == "":
				return nil, validation.Invalid(elField, "must be a non-empty string (the %s)", []string{"namespace", "data element identifier"}[j])
			case len(name) > maxClaimNameLen:
				return nil, validation.Invalid(elField, "is longer than %d bytes", maxClaimNameLen)
			case !validation.Printable(name):
				return nil, validation.Invalid(elField, "must not contain control characters")
			}
			path[j] = name
		}
		key := pathKey(path)
		if seen[key] {
			return nil, validation.Invalid(field+".path", "names the same data element as an earlier entry")
		}
		seen[key] = true
		switch c.ValueType {
		case "", ValueTypeFullDate, ValueTypeDateTime, ValueTypeBytes:
		default:
			return nil, validation.Invalid(field+".valueType", "must be %q, %q or %q (or absent: the JSON value as it is)",
				ValueTypeFullDate, ValueTypeDateTime, ValueTypeBytes)
		}
		if err := validateDisplays(field+".display", c.Display); err != nil {
			return nil, err
		}
		c.Path = path
		out = append(out, c)
	}
	if err := metadataClaims(out); err != nil {
		return nil, err
	}
	return out, nil
}

// MdocNameSpaces turns a credential subject into the namespaces of an mdoc of this definition: the subject's
// members are namespaces, each an object of data elements; elements the definition types (ValueType) get that
// CBOR type. Errors are *validation.Error whose field is relative to the subject ("<namespace>.<element>"), never
// carrying a value. Everything mdoc.Issue would refuse is refused here.
func (s *Spec) MdocNameSpaces(subject map[string]any) (map[string]map[string]any, error) {
	types := map[[2]string]string{}
	for _, c := range s.Claims {
		if c.ValueType != "" && len(c.Path) == 2 {
			ns, _ := c.Path[0].(string)
			id, _ := c.Path[1].(string)
			types[[2]string{ns, id}] = c.ValueType
		}
	}
	out := make(map[string]map[string]any, len(subject))
	for ns, v := range subject {
		elements, ok := v.(map[string]any)
		if !ok {
			return nil, validation.Invalid(ns, "must be an object of data elements: the members of an %s credential "+
				"subject are namespaces, e.g. {\"org.iso.18013.5.1\": {\"given_name\": ...}}", FormatMdoc)
		}
		if len(elements) == 0 {
			return nil, validation.Invalid(ns, "must hold at least one data element")
		}
		typed := make(map[string]any, len(elements))
		for id, value := range elements {
			tv, err := typedValue(types[[2]string{ns, id}], value)
			if err != nil {
				return nil, validation.Invalid(ns+"."+id, "%s", err.Error())
			}
			typed[id] = tv
		}
		out[ns] = typed
	}
	if err := mdoc.CheckNameSpaces(out); err != nil {
		return nil, validation.Invalid("", "%s", strings.TrimPrefix(err.Error(), mdoc.ErrInvalidDocument.Error()+": "))
	}
	return out, nil
}

// typedValue converts a JSON value to the CBOR type a claim's valueType names.
func typedValue(valueType string, v any) (any, error) {
	if valueType == "" {
		return v, nil
	}
	str, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("must be a string holding a %s", valueType)
	}
	switch valueType {
	case ValueTypeFullDate:
		if _, err := time.Parse(time.DateOnly, str); err != nil {
			return nil, fmt.Errorf("must be a full-date, YYYY-MM-DD")
		}
		return mdoc.FullDate(str), nil
	case ValueTypeDateTime:
		t, err := time.Parse(time.RFC3339, str)
		if err != nil {
			return nil, fmt.Errorf("must be an RFC 3339 date-time, e.g. 2025-01-31T12:00:00Z")
		}
		return mdoc.DateTime(t), nil
	case ValueTypeBytes:
		for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
			if b, err := enc.DecodeString(str); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("must be base64 or base64url (the bytes of the element)")
	}
	return nil, fmt.Errorf("has an unknown valueType %q", valueType)
}
