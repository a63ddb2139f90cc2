package oid4vci

import (
	"errors"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxCredentialRequestBytes bounds a credential, deferred credential or notification request body.
const MaxCredentialRequestBytes = 256 << 10

// ProofShape is how the wallet sent its key proofs, which decides how the credentials are answered.
type ProofShape int

const (
	// ProofsArray is proofs: {jwt: [...]} (1.0, and draft 13 batches), answered with credentials[].
	ProofsArray ProofShape = iota
	// ProofSingle is proof: {proof_type, jwt} (drafts 12 and 13), answered with credential.
	ProofSingle
)

// String names the shape for stored records.
func (s ProofShape) String() string {
	if s == ProofSingle {
		return "proof"
	}
	return "proofs"
}

// ParseProofShape is the inverse of String.
func ParseProofShape(s string) (ProofShape, bool) {
	switch s {
	case "proof":
		return ProofSingle, true
	case "proofs":
		return ProofsArray, true
	}
	return ProofsArray, false
}

// CredentialRequest is a credential request of any supported dialect, normalized: exactly one of
// CredentialConfigurationID, CredentialIdentifier or (Format and VCT) identifies what is requested, and ProofJWTs
// holds every jwt key proof, still unvalidated (see ValidateProofs).
type CredentialRequest struct {
	// Dialect is the version the wallet spoke; answer with BuildCredentialResponse in the same dialect.
	Dialect Dialect
	// CredentialConfigurationID is set by 1.0 wallets that got no credential_identifiers.
	CredentialConfigurationID string
	// CredentialIdentifier is set by wallets that got credential_identifiers in the token response.
	CredentialIdentifier string
	// Format identifies the credential in draft requests, with the member of its format: VCT (dc+sd-jwt,
	// vc+sd-jwt), DocType (mso_mdoc) or Types (jwt_vc_json, credential_definition.type).
	Format  string
	VCT     string
	DocType string
	Types   []string
	// ProofJWTs are the jwt key proofs, in order (empty with the attestation proof type).
	ProofJWTs []string
	// KeyAttestation is the key attestation of the attestation proof type ("" with jwt proofs, which may carry
	// theirs in the key_attestation header); unvalidated.
	KeyAttestation string
	// ProofShape records proof versus proofs.
	ProofShape ProofShape
	// ResponseEncryption is the wallet's credential_response_encryption (nil: answer in the clear).
	ResponseEncryption *ResponseEncryption
}

// ParseCredentialRequest parses and normalizes a credential request (application/json) of OpenID4VCI 1.0, draft 13
// or draft 12. maxProofs is the batch size (1 when batch issuance is not offered). Failures are *Error with
// invalid_credential_request, invalid_proof, invalid_encryption_parameters or, for draft requests naming another
// format, unsupported_credential_format.
func ParseCredentialRequest(body []byte, contentType string, maxProofs int) (*CredentialRequest, error) {
	obj, err := requestObject(body, contentType, ErrInvalidCredentialRequest)
	if err != nil {
		return nil, err
	}
	req := &CredentialRequest{}
	if err := identify(obj, req); err != nil {
		return nil, err
	}
	if req.ResponseEncryption, err = parseResponseEncryption(obj); err != nil {
		return nil, err
	}
	if err := readProofs(obj, req, maxProofs); err != nil {
		return nil, err
	}
	return req, nil
}

// requestObject checks the media type and size of a JSON request body and decodes its top-level object; code is the
// error code of the endpoint for a malformed body.
func requestObject(body []byte, contentType, code string) (jsonObject, error) {
	if !mediaTypeIs(contentType, "application/json") {
		if mediaTypeIs(contentType, "application/jwt") {
			return nil, Errorf(code, "encrypted requests are not supported; send the request as application/json")
		}
		return nil, Errorf(code, "the request must be sent as application/json")
	}
	if len(body) > MaxCredentialRequestBytes {
		return nil, Errorf(code, "the request is larger than %d bytes", MaxCredentialRequestBytes)
	}
	obj, err := decodeObject(body)
	if err != nil {
		// A member repeated inside proof or proofs is a malformed key proof, as the wallet's other proof faults are.
		var dup *duplicateError
		if errors.As(err, &dup) {
			outer, _, nested := strings.Cut(strings.TrimPrefix(string(dup.path), "/"), "/")
			if nested && (outer == "proof" || outer == "proofs") {
				return nil, Errorf(ErrInvalidProof, "%s must be a JSON object in which no member repeats: %s appears more than once", outer, dup.name())
			}
		}
		return nil, &Error{Code: code, Description: describeBodyError(err)}
	}
	return obj, nil
}

// identify reads what the request asks for and decides the dialect.
func identify(obj jsonObject, req *CredentialRequest) error {
	var err error
	fields := []struct {
		name string
		dst  *string
	}{
		{"credential_configuration_id", &req.CredentialConfigurationID},
		{"credential_identifier", &req.CredentialIdentifier},
		{"format", &req.Format},
	}
	for _, f := range fields {
		v, ok, e := obj.str(f.name)
		if e != nil || (ok && v == "") {
			return Errorf(ErrInvalidCredentialRequest, "%s must be a non-empty string", f.name)
		}
		*f.dst = v
	}
	n := 0
	for _, v := range []string{req.CredentialConfigurationID, req.CredentialIdentifier, req.Format} {
		if v != "" {
			n++
		}
	}
	switch {
	case n == 0:
		return Errorf(ErrInvalidCredentialRequest, "name the credential with credential_configuration_id (or credential_identifier when the token response listed credential_identifiers)")
	case n > 1:
		return Errorf(ErrInvalidCredentialRequest, "send exactly one of credential_configuration_id, credential_identifier and format")
	case req.CredentialConfigurationID != "":
		req.Dialect = DialectV1
		if obj.present("proof") {
			// Drafts 14 and 15 (1.0 dropped the singular proof).
			req.Dialect = DialectDraft15
		}
	case req.CredentialIdentifier != "":
		req.Dialect = DialectV1
		if obj.present("proof") {
			req.Dialect = DialectDraft13
		}
	default:
		err = identifyByFormat(obj, req)
	}
	return err
}

// identifyByFormat reads the draft shapes of a request by format: {format, vct} (draft 13) and {format,
// credential_definition: {vct}} (draft 12) for SD-JWT VC, {format: mso_mdoc, doctype} and {format: jwt_vc_json,
// credential_definition: {type}} (drafts 12 and 13, answered as draft 13).
func identifyByFormat(obj jsonObject, req *CredentialRequest) error {
	switch req.Format {
	case FormatSDJWTVC, FormatLegacySDJWTVC:
		return identifySDJWT(obj, req)
	case FormatMsoMdoc:
		req.Dialect = DialectDraft13
		doctype, ok, err := obj.str("doctype")
		if err != nil || !ok || doctype == "" {
			return Errorf(ErrInvalidCredentialRequest, "doctype is required with format %s: the doctype of the offered credential configuration", FormatMsoMdoc)
		}
		req.DocType = doctype
		return nil
	case FormatJWTVCJSON:
		req.Dialect = DialectDraft13
		def, ok, err := obj.object("credential_definition")
		if err != nil || !ok || !def.present("type") {
			return Errorf(ErrInvalidCredentialRequest, "credential_definition with type is required with format %s: the type of the offered credential configuration", FormatJWTVCJSON)
		}
		if err := json.Unmarshal(def["type"], &req.Types); err != nil || len(req.Types) == 0 {
			return Errorf(ErrInvalidCredentialRequest, "credential_definition.type must be a non-empty array of strings")
		}
		return nil
	default:
		return Errorf(ErrUnsupportedCredentialFormat, "this issuer issues %s (or %s), %s and %s", FormatSDJWTVC,
			FormatLegacySDJWTVC, FormatMsoMdoc, FormatJWTVCJSON)
	}
}

// identifySDJWT reads {format, vct} (draft 13) and {format, credential_definition: {vct}} (draft 12).
func identifySDJWT(obj jsonObject, req *CredentialRequest) error {
	vct, hasVCT, err := obj.str("vct")
	if err != nil {
		return Errorf(ErrInvalidCredentialRequest, "vct must be a string")
	}
	req.Dialect = DialectDraft13
	def, hasDef, err := obj.object("credential_definition")
	if err != nil {
		return Errorf(ErrInvalidCredentialRequest, "credential_definition must be a JSON object")
	}
	if hasDef {
		req.Dialect = DialectDraft12
		defVCT, ok, err := def.str("vct")
		if err != nil {
			return Errorf(ErrInvalidCredentialRequest, "credential_definition.vct must be a string")
		}
		if ok {
			if hasVCT && defVCT != vct {
				return Errorf(ErrInvalidCredentialRequest, "vct and credential_definition.vct differ; send one vct")
			}
			vct, hasVCT = defVCT, true
		}
	}
	if !hasVCT || vct == "" {
		return Errorf(ErrInvalidCredentialRequest, "vct is required with format: the vct of the offered credential configuration")
	}
	req.VCT = vct
	return nil
}

// readProofs reads proof or proofs into req.
func readProofs(obj jsonObject, req *CredentialRequest, maxProofs int) error {
	if maxProofs < 1 {
		maxProofs = 1
	}
	hasProof, hasProofs := obj.present("proof"), obj.present("proofs")
	switch {
	case hasProof && hasProofs:
		return Errorf(ErrInvalidCredentialRequest, "send either proof or proofs, not both")
	case hasProof:
		req.ProofShape = ProofSingle
		typ, jwt, err := singleProof(obj)
		if err != nil {
			return err
		}
		if typ == ProofTypeAttestation {
			req.KeyAttestation = jwt
		} else {
			req.ProofJWTs = []string{jwt}
		}
		return nil
	case hasProofs:
		req.ProofShape = ProofsArray
		typ, jwts, err := proofArray(obj, maxProofs)
		if err != nil {
			return err
		}
		if typ == ProofTypeAttestation {
			req.KeyAttestation = jwts[0]
		} else {
			req.ProofJWTs = jwts
		}
		return nil
	default:
		if req.Dialect.Legacy() {
			return Errorf(ErrInvalidProof, "a key proof is required: send proof with proof_type jwt")
		}
		return Errorf(ErrInvalidProof, "key proofs are required: send proofs with a jwt array")
	}
}

// singleProof reads proof: {proof_type: jwt, jwt} or {proof_type: attestation, attestation} and returns the type
// and the JWT.
func singleProof(obj jsonObject) (string, string, error) {
	p, _, err := obj.object("proof")
	if err != nil {
		return "", "", Errorf(ErrInvalidProof, "proof must be a JSON object with proof_type and jwt")
	}
	typ, _, err := p.str("proof_type")
	if err != nil || typ == "" {
		return "", "", Errorf(ErrInvalidProof, "proof.proof_type is required and must be jwt (or attestation)")
	}
	if typ != ProofTypeJWT && typ != ProofTypeAttestation {
		return "", "", Errorf(ErrInvalidProof, "only the jwt and attestation proof types are supported")
	}
	jwt, ok, err := p.str(typ)
	if err != nil || !ok || jwt == "" {
		return "", "", Errorf(ErrInvalidProof, "proof.%s is required: the %s JWT", typ, proofTypeNoun(typ))
	}
	if len(jwt) > MaxProofJWTLength {
		return "", "", Errorf(ErrInvalidProof, "the proof JWT is longer than %d bytes", MaxProofJWTLength)
	}
	return typ, jwt, nil
}

func proofTypeNoun(typ string) string {
	if typ == ProofTypeAttestation {
		return "key attestation"
	}
	return "key proof"
}

// proofArray reads proofs: {jwt: [...]} (at most maxProofs) or {attestation: [one key attestation]}.
func proofArray(obj jsonObject, maxProofs int) (string, []string, error) {
	proofs, _, err := obj.object("proofs")
	if err != nil {
		return "", nil, Errorf(ErrInvalidProof, "proofs must be a JSON object with one member, jwt, holding an array of key proof JWTs")
	}
	if len(proofs) != 1 {
		return "", nil, Errorf(ErrInvalidProof, "proofs must hold exactly one proof type; this issuer supports jwt and attestation")
	}
	typ := ProofTypeJWT
	if proofs.present(ProofTypeAttestation) {
		typ, maxProofs = ProofTypeAttestation, 1
	} else if !proofs.present(ProofTypeJWT) {
		return "", nil, Errorf(ErrInvalidProof, "only the jwt and attestation proof types are supported; send proofs with a jwt array")
	}
	var items []jsontext.Value
	if err := json.Unmarshal(proofs[typ], &items); err != nil || len(items) == 0 {
		return "", nil, Errorf(ErrInvalidProof, "proofs.%s must be a non-empty array of %s JWTs", typ, proofTypeNoun(typ))
	}
	if len(items) > maxProofs {
		if typ == ProofTypeAttestation {
			return "", nil, Errorf(ErrInvalidProof, "proofs.attestation must hold exactly one key attestation")
		}
		return "", nil, Errorf(ErrInvalidProof, "at most %d proofs are accepted in one request (batch_size)", maxProofs)
	}
	out := make([]string, len(items))
	for i, item := range items {
		var s string
		if err := json.Unmarshal(item, &s); err != nil || s == "" {
			return "", nil, Errorf(ErrInvalidProof, "proofs.%s entry %d must be a JWT string", typ, i+1)
		}
		if len(s) > MaxProofJWTLength {
			return "", nil, Errorf(ErrInvalidProof, "proofs.%s entry %d is longer than %d bytes", typ, i+1, MaxProofJWTLength)
		}
		out[i] = s
	}
	return typ, out, nil
}

// DeferredCredentialRequest is a parsed deferred credential request.
type DeferredCredentialRequest struct {
	// TransactionID is the id from the deferred credential response. Secret: never log it.
	TransactionID string
	// ResponseEncryption is the wallet's credential_response_encryption for this answer (1.0: it may differ from
	// the one of the original credential request); nil: answer in the clear.
	ResponseEncryption *ResponseEncryption
}

// ParseDeferredCredentialRequest parses {transaction_id} (application/json). A missing transaction_id is
// invalid_credential_request; whether the id is known (invalid_transaction_id) is the caller's lookup.
func ParseDeferredCredentialRequest(body []byte, contentType string) (*DeferredCredentialRequest, error) {
	obj, err := requestObject(body, contentType, ErrInvalidCredentialRequest)
	if err != nil {
		return nil, err
	}
	id, ok, err := obj.str("transaction_id")
	if err != nil || !ok || id == "" {
		return nil, Errorf(ErrInvalidCredentialRequest, "transaction_id is required: the value from the deferred credential response")
	}
	enc, err := parseResponseEncryption(obj)
	if err != nil {
		return nil, err
	}
	return &DeferredCredentialRequest{TransactionID: id, ResponseEncryption: enc}, nil
}
