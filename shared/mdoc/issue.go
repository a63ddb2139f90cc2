package mdoc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/veraison/go-cose"
)

// Values of the MSO fixed by ISO 18013-5 (and by this issuer's choice of digest).
const (
	// MSOVersion is the MSO `version`.
	MSOVersion = "1.0"
	// DigestAlgorithm is the MSO `digestAlgorithm`: every value digest is SHA-256 of IssuerSignedItemBytes.
	DigestAlgorithm = "SHA-256"
	// RandomBytes is the length of each IssuerSignedItem's `random` salt (ISO 18013-5 asks for at least 16).
	RandomBytes = 32
	// COSEAlgorithmES256 is the COSE algorithm of IssuerAuth: ECDSA with SHA-256 (-7), the value OID4VCI lists in
	// credential_signing_alg_values_supported for mso_mdoc.
	COSEAlgorithmES256 = int(cose.AlgorithmES256)
)

// Limits of one document, checked before anything is signed.
const (
	MaxDocTypeLen     = 256
	MaxNamespaceLen   = 256
	MaxIdentifierLen  = 256
	MaxNamespaces     = 32
	MaxElements       = 512
	maxCertificates   = 8
	maxValidityPeriod = 20 * 365 * 24 * time.Hour
)

// Signer is the document signer key: anything that hands out a crypto.Signer for an ECDSA P-256 key, bound to
// ctx (a KMS call); every keys.Signer (the KMS key, the local key) is one. go-cose signs through that
// crypto.Signer's Sign method, the local key's too (es256Key hides its type), as keys.SignJWS does for JWS.
type Signer interface {
	CryptoSigner(ctx context.Context) crypto.Signer
}

// StatusReference points at the document's entry in a Token Status List; it becomes the MSO's
// `status: {status_list: {idx, uri}}` (draft-ietf-oauth-status-list, "Referenced Token in COSE").
type StatusReference struct {
	Index int64
	URI   string
}

// Document is an mdoc to issue.
type Document struct {
	// DocType is the document type, e.g. "org.iso.18013.5.1.mDL" or "eu.europa.ec.eudi.pid.1".
	DocType string
	// NameSpaces maps each namespace to its data elements (identifier to value). Values are what JSON decoding
	// yields (string, float64 or json.Number, bool, nil, []any, map[string]any) plus FullDate, DateTime and
	// []byte.
	NameSpaces map[string]map[string]any
	// DeviceKey is the holder's public key (from the wallet's proof), placed in the MSO as a COSE_Key.
	DeviceKey jwk.Key
	// Signed, ValidFrom and ValidUntil are the MSO's validityInfo; ValidFrom zero means Signed.
	Signed, ValidFrom, ValidUntil time.Time
	// Status is the status list reference; nil omits it.
	Status *StatusReference
}

// Issued is an issued mdoc.
type Issued struct {
	// IssuerSigned is the CBOR encoding of the IssuerSigned structure.
	IssuerSigned []byte
}

// Encoded is the credential as OID4VCI returns it: base64url (no padding) of IssuerSigned.
func (i *Issued) Encoded() string { return base64.RawURLEncoding.EncodeToString(i.IssuerSigned) }

// Issuer signs mdocs with one document signer key and its certificate chain. Safe for concurrent use.
type Issuer struct {
	signer Signer
	chain  [][]byte
	rand   io.Reader
}

// Option configures an Issuer.
type Option func(*Issuer)

// WithRand replaces crypto/rand as the source of salts and digest IDs (tests only).
func WithRand(r io.Reader) Option { return func(is *Issuer) { is.rand = r } }

// NewIssuer returns an issuer that signs with signer and puts chain (DER certificates, the document signer's
// first) in every IssuerAuth's x5chain. The first certificate must certify the signer's public key.
func NewIssuer(signer Signer, chain [][]byte, opts ...Option) (*Issuer, error) {
	if signer == nil {
		return nil, fmt.Errorf("%w: no signer", ErrSignature)
	}
	if len(chain) == 0 || len(chain) > maxCertificates {
		return nil, fmt.Errorf("%w: the document signer chain must hold 1 to %d certificates", ErrSignature, maxCertificates)
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("%w: document signer certificate: %w", ErrSignature, err)
	}
	if err := checkCountry(leaf); err != nil {
		return nil, err
	}
	cs := signer.CryptoSigner(context.Background())
	if cs == nil {
		return nil, fmt.Errorf("%w: signer has no key", ErrSignature)
	}
	pub, ok := cs.Public().(*ecdsa.PublicKey)
	if !ok || !pub.Equal(leaf.PublicKey) {
		return nil, fmt.Errorf("%w: the document signer certificate does not certify the signing key", ErrSignature)
	}
	is := &Issuer{signer: signer, chain: slices.Clone(chain), rand: rand.Reader}
	for _, o := range opts {
		o(is)
	}
	return is, nil
}

// checkCountry applies ISO/IEC 18013-5 Annex B's country rule, which mdoc verifiers check: the document signer
// certificate's subject holds one two-letter countryName, and its issuer's name (the IACA's) the same one.
func checkCountry(leaf *x509.Certificate) error {
	c := leaf.Subject.Country
	if len(c) != 1 || len(c[0]) != 2 {
		return fmt.Errorf("%w: the document signer certificate's subject must hold exactly one two-letter "+
			"countryName (C), which ISO/IEC 18013-5 requires and mdoc verifiers check: have the CA issue the "+
			"certificate with the country (infra/cmd/issuer-csr -country)", ErrSignature)
	}
	if ic := leaf.Issuer.Country; len(ic) != 1 || ic[0] != c[0] {
		return fmt.Errorf("%w: the document signer certificate's issuer name must hold the countryName (C) of its "+
			"subject, %s, as ISO/IEC 18013-5 requires of the issuing CA and mdoc verifiers check: use a CA of "+
			"that country", ErrSignature, c[0])
	}
	return nil
}

// Chain is the certificate chain put in x5chain (DER, the document signer's first).
func (is *Issuer) Chain() [][]byte { return slices.Clone(is.chain) }

// issuerSignedItem is ISO 18013-5 IssuerSignedItem.
type issuerSignedItem struct {
	DigestID          uint64 `cbor:"digestID"`
	Random            []byte `cbor:"random"`
	ElementIdentifier string `cbor:"elementIdentifier"`
	ElementValue      any    `cbor:"elementValue"`
}

// mobileSecurityObject is ISO 18013-5 MobileSecurityObject, with the Token Status List `status`.
type mobileSecurityObject struct {
	Version         string                       `cbor:"version"`
	DigestAlgorithm string                       `cbor:"digestAlgorithm"`
	ValueDigests    map[string]map[uint64][]byte `cbor:"valueDigests"`
	DeviceKeyInfo   deviceKeyInfo                `cbor:"deviceKeyInfo"`
	DocType         string                       `cbor:"docType"`
	ValidityInfo    validityInfo                 `cbor:"validityInfo"`
	Status          *statusClaim                 `cbor:"status,omitempty"`
}

type deviceKeyInfo struct {
	DeviceKey cbor.RawMessage `cbor:"deviceKey"`
}

type validityInfo struct {
	Signed     cbor.Tag `cbor:"signed"`
	ValidFrom  cbor.Tag `cbor:"validFrom"`
	ValidUntil cbor.Tag `cbor:"validUntil"`
}

type statusClaim struct {
	StatusList statusListRef `cbor:"status_list"`
}

type statusListRef struct {
	Idx uint64 `cbor:"idx"`
	URI string `cbor:"uri"`
}

// issuerSigned is ISO 18013-5 IssuerSigned; the items are IssuerSignedItemBytes as encoded (their digests are
// over these bytes), IssuerAuth the untagged COSE_Sign1.
type issuerSigned struct {
	NameSpaces map[string][]cbor.RawMessage `cbor:"nameSpaces"`
	IssuerAuth cbor.RawMessage              `cbor:"issuerAuth"`
}

// Issue builds, signs and encodes doc: one KMS Sign (or local signature) for the MSO.
func (is *Issuer) Issue(ctx context.Context, doc Document) (*Issued, error) {
	if err := checkDocument(&doc); err != nil {
		return nil, fmt.Errorf("issue mdoc: %w", err)
	}
	deviceKey, err := DeviceKey(doc.DeviceKey)
	if err != nil {
		return nil, fmt.Errorf("issue mdoc: %w", err)
	}
	nameSpaces, digests, err := is.items(doc.NameSpaces)
	if err != nil {
		return nil, fmt.Errorf("issue mdoc: %w", err)
	}
	mso := mobileSecurityObject{
		Version:         MSOVersion,
		DigestAlgorithm: DigestAlgorithm,
		ValueDigests:    digests,
		DeviceKeyInfo:   deviceKeyInfo{DeviceKey: deviceKey},
		DocType:         doc.DocType,
		ValidityInfo: validityInfo{
			Signed:     tdate(doc.Signed),
			ValidFrom:  tdate(doc.ValidFrom),
			ValidUntil: tdate(doc.ValidUntil),
		},
	}
	if doc.Status != nil {
		mso.Status = &statusClaim{StatusList: statusListRef{Idx: uint64(doc.Status.Index), URI: doc.Status.URI}}
	}
	msoBytes, err := encodedCBOR(mso)
	if err != nil {
		return nil, fmt.Errorf("issue mdoc: mobile security object: %w", err)
	}
	issuerAuth, err := is.sign(ctx, msoBytes)
	if err != nil {
		return nil, fmt.Errorf("issue mdoc: %w", err)
	}
	out, err := encMode.Marshal(issuerSigned{NameSpaces: nameSpaces, IssuerAuth: issuerAuth})
	if err != nil {
		return nil, fmt.Errorf("issue mdoc: encode IssuerSigned: %w", err)
	}
	return &Issued{IssuerSigned: out}, nil
}

// checkDocument refuses what ISO 18013-5 or this issuer's limits do not allow, naming the part.
func checkDocument(doc *Document) error {
	if err := checkName("docType", doc.DocType, MaxDocTypeLen); err != nil {
		return err
	}
	if err := checkNameSpaceNames(doc.NameSpaces); err != nil {
		return err
	}
	if doc.Signed.IsZero() || doc.ValidUntil.IsZero() {
		return fmt.Errorf("%w: validity: signed and validUntil are required", ErrInvalidDocument)
	}
	if doc.ValidFrom.IsZero() {
		doc.ValidFrom = doc.Signed
	}
	signed, from, until := doc.Signed.Truncate(time.Second), doc.ValidFrom.Truncate(time.Second), doc.ValidUntil.Truncate(time.Second)
	switch {
	case from.Before(signed):
		return fmt.Errorf("%w: validity: validFrom is before signed", ErrInvalidDocument)
	case !until.After(from):
		return fmt.Errorf("%w: validity: validUntil is not after validFrom", ErrInvalidDocument)
	case until.Sub(signed) > maxValidityPeriod:
		return fmt.Errorf("%w: validity: more than 20 years", ErrInvalidDocument)
	}
	if doc.Status != nil && (doc.Status.Index < 0 || doc.Status.URI == "" || !utf8.ValidString(doc.Status.URI)) {
		return fmt.Errorf("%w: status: a non-negative index and a uri are required", ErrInvalidDocument)
	}
	return nil
}

// CheckNameSpaces reports what Issue would refuse in nameSpaces (namespace and element names, counts, element
// values) without signing anything, so that callers can refuse such claims when they are given rather than when
// the credential is requested. The error (ErrInvalidDocument) names the namespace and element, never a value.
func CheckNameSpaces(nameSpaces map[string]map[string]any) error {
	if err := checkNameSpaceNames(nameSpaces); err != nil {
		return err
	}
	for ns, elements := range nameSpaces {
		for id, v := range elements {
			if _, err := elementValue(v, ns+"/"+id, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkNameSpaceNames checks the namespaces' and elements' names and counts.
func checkNameSpaceNames(nameSpaces map[string]map[string]any) error {
	if len(nameSpaces) == 0 {
		return fmt.Errorf("%w: no namespace: an mdoc holds at least one data element", ErrInvalidDocument)
	}
	if len(nameSpaces) > MaxNamespaces {
		return fmt.Errorf("%w: more than %d namespaces", ErrInvalidDocument, MaxNamespaces)
	}
	total := 0
	for ns, elements := range nameSpaces {
		if err := checkName("namespace", ns, MaxNamespaceLen); err != nil {
			return err
		}
		if len(elements) == 0 {
			return fmt.Errorf("%w: namespace %q has no data element", ErrInvalidDocument, ns)
		}
		for id := range elements {
			if err := checkName(fmt.Sprintf("element identifier in %q", ns), id, MaxIdentifierLen); err != nil {
				return err
			}
		}
		total += len(elements)
	}
	if total > MaxElements {
		return fmt.Errorf("%w: more than %d data elements", ErrInvalidDocument, MaxElements)
	}
	return nil
}

// checkName accepts a non-empty, bounded, valid UTF-8 name without control characters.
func checkName(what, s string, max int) error {
	if s == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidDocument, what)
	}
	if len(s) > max {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalidDocument, what, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidDocument, what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalidDocument, what)
		}
	}
	return nil
}

// items encodes every data element as IssuerSignedItemBytes with a fresh salt and returns them per namespace
// with their digests. Digest IDs are a random permutation per namespace, so an ID says nothing of the element
// it belongs to; the items are listed in identifier order (the array order carries no meaning).
func (is *Issuer) items(nameSpaces map[string]map[string]any) (map[string][]cbor.RawMessage, map[string]map[uint64][]byte, error) {
	items := make(map[string][]cbor.RawMessage, len(nameSpaces))
	digests := make(map[string]map[uint64][]byte, len(nameSpaces))
	for ns, elements := range nameSpaces {
		ids := make([]string, 0, len(elements))
		for id := range elements {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		digestIDs, err := is.permutation(len(ids))
		if err != nil {
			return nil, nil, err
		}
		nsItems := make([]cbor.RawMessage, len(ids))
		nsDigests := make(map[uint64][]byte, len(ids))
		for i, id := range ids {
			value, err := elementValue(elements[id], ns+"/"+id, 0)
			if err != nil {
				return nil, nil, err
			}
			salt := make([]byte, RandomBytes)
			if _, err := io.ReadFull(is.rand, salt); err != nil {
				return nil, nil, fmt.Errorf("%w: salt: %w", ErrSignature, err)
			}
			item, err := encodedCBOR(issuerSignedItem{DigestID: digestIDs[i], Random: salt, ElementIdentifier: id, ElementValue: value})
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %s/%s: %w", ErrInvalidDocument, ns, id, err)
			}
			sum := sha256.Sum256(item)
			nsItems[i] = item
			nsDigests[digestIDs[i]] = sum[:]
		}
		items[ns] = nsItems
		digests[ns] = nsDigests
	}
	return items, digests, nil
}

// permutation is a uniformly random order of 0..n-1 (Fisher-Yates with crypto-grade draws).
func (is *Issuer) permutation(n int) ([]uint64, error) {
	p := make([]uint64, n)
	for i := range p {
		p[i] = uint64(i)
	}
	for i := n - 1; i > 0; i-- {
		j, err := rand.Int(is.rand, big.NewInt(int64(i+1)))
		if err != nil {
			return nil, fmt.Errorf("%w: digest IDs: %w", ErrSignature, err)
		}
		p[i], p[j.Int64()] = p[j.Int64()], p[i]
	}
	return p, nil
}

// encodedCBOR is v encoded, wrapped as #6.24(bstr .cbor v): the form of IssuerSignedItemBytes and
// MobileSecurityObjectBytes, whose exact bytes are digested or signed.
func encodedCBOR(v any) ([]byte, error) {
	inner, err := encMode.Marshal(v)
	if err != nil {
		return nil, err
	}
	return encMode.Marshal(cbor.Tag{Number: tagEncodedCBOR, Content: inner})
}

// sign makes IssuerAuth: the untagged COSE_Sign1 over MobileSecurityObjectBytes, alg ES256 protected, x5chain
// unprotected (a single certificate as a byte string, several as an array, RFC 9360).
func (is *Issuer) sign(ctx context.Context, msoBytes []byte) (cbor.RawMessage, error) {
	cs := is.signer.CryptoSigner(ctx)
	if cs == nil {
		return nil, fmt.Errorf("%w: signer has no key", ErrSignature)
	}
	signer, err := cose.NewSigner(cose.AlgorithmES256, es256Key{cs})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	var x5chain any = is.chain[0]
	if len(is.chain) > 1 {
		x5chain = is.chain
	}
	msg := cose.UntaggedSign1Message{
		Headers: cose.Headers{
			Protected:   cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmES256},
			Unprotected: cose.UnprotectedHeader{cose.HeaderLabelX5Chain: x5chain},
		},
		Payload: msoBytes,
	}
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		return nil, fmt.Errorf("%w: sign the mobile security object: %w", ErrSignature, err)
	}
	out, err := msg.MarshalCBOR()
	if err != nil {
		return nil, fmt.Errorf("%w: encode IssuerAuth: %w", ErrSignature, err)
	}
	return out, nil
}

// es256Key hands go-cose's SHA-256 digest to the key with crypto.SHA256 as its options. go-cose passes nil
// options to a crypto.Signer; a KMS-backed signer rightly refuses to sign a digest whose hash it is not told.
type es256Key struct{ crypto.Signer }

// Sign signs digest, a SHA-256 digest.
func (k es256Key) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		opts = crypto.SHA256
	}
	return k.Signer.Sign(r, digest, opts)
}
