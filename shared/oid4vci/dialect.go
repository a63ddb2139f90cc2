package oid4vci

// Dialect is the version of OpenID4VCI a wallet spoke in a request, so that the answer can be given in its shape.
type Dialect int

const (
	// DialectV1 is OpenID4VCI 1.0 (final): credential_configuration_id or credential_identifier with proofs.
	DialectV1 Dialect = iota
	// DialectDraft13 is draft 13: format and vct (or credential_identifier) with a single proof, answered with
	// credential and c_nonce.
	DialectDraft13
	// DialectDraft12 is draft 12 (and 11): format with credential_definition, user_pin at the token endpoint,
	// answered with format, credential and c_nonce.
	DialectDraft12
	// DialectDraft15 is drafts 14 and 15: credential_configuration_id with a single proof (Sphereon's client sends
	// it), answered as 1.0 answers (credentials[], 202 for a deferral, no c_nonce) with the draft's error codes.
	DialectDraft15
)

// String names the dialect for logs and stored records.
func (d Dialect) String() string {
	switch d {
	case DialectV1:
		return "1.0"
	case DialectDraft13:
		return "draft-13"
	case DialectDraft12:
		return "draft-12"
	case DialectDraft15:
		return "draft-15"
	default:
		return "unknown"
	}
}

// ParseDialect is the inverse of String, for dialects read back from a stored record.
func ParseDialect(s string) (Dialect, bool) {
	switch s {
	case "1.0":
		return DialectV1, true
	case "draft-13":
		return DialectDraft13, true
	case "draft-12":
		return DialectDraft12, true
	case "draft-15":
		return DialectDraft15, true
	default:
		return DialectV1, false
	}
}

// Legacy reports whether the dialect is one of the drafts (answered with credential and c_nonce).
func (d Dialect) Legacy() bool { return d == DialectDraft13 || d == DialectDraft12 }
