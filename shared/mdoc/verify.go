package mdoc

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"
)

// VerifyOptions are a verifier's trust and expectations.
type VerifyOptions struct {
	// Roots are the trusted certificates: the x5chain must chain to one of them. A self-signed document signer
	// certificate is trusted by putting it here.
	Roots *x509.CertPool
	// Now is the time of verification (zero: the current time).
	Now time.Time
	// DocType, when set, must be the MSO's docType.
	DocType string
}

// Verified is what a verified IssuerSigned structure says.
type Verified struct {
	// DocType is the MSO's docType.
	DocType string
	// NameSpaces maps each namespace to its data elements, decoded (maps with text keys as map[string]any; tags
	// other than CBOR's own as cbor.Tag).
	NameSpaces map[string]map[string]any
	// DigestIDs maps each namespace to its elements' digest IDs.
	DigestIDs map[string]map[string]uint64
	// RandomLengths maps each namespace to the length of each element's salt.
	RandomLengths map[string]map[string]int
	// DeviceKey is the holder's public key from deviceKeyInfo.
	DeviceKey crypto.PublicKey
	// Signed, ValidFrom and ValidUntil are the MSO's validityInfo.
	Signed, ValidFrom, ValidUntil time.Time
	// Status is the MSO's Token Status List reference, nil when absent.
	Status *StatusReference
	// Chain is the x5chain, the document signer's certificate first.
	Chain []*x509.Certificate
	// ProtectedAlgorithm is the alg of IssuerAuth's protected header.
	ProtectedAlgorithm cose.Algorithm
}

type issuerSignedIn struct {
	NameSpaces map[string][]cbor.RawMessage `cbor:"nameSpaces"`
	IssuerAuth cbor.RawMessage              `cbor:"issuerAuth"`
}

type msoIn struct {
	Version         string                       `cbor:"version"`
	DigestAlgorithm string                       `cbor:"digestAlgorithm"`
	ValueDigests    map[string]map[uint64][]byte `cbor:"valueDigests"`
	DeviceKeyInfo   struct {
		DeviceKey cbor.RawMessage `cbor:"deviceKey"`
	} `cbor:"deviceKeyInfo"`
	DocType      string `cbor:"docType"`
	ValidityInfo struct {
		Signed     cbor.RawTag `cbor:"signed"`
		ValidFrom  cbor.RawTag `cbor:"validFrom"`
		ValidUntil cbor.RawTag `cbor:"validUntil"`
	} `cbor:"validityInfo"`
	Status *struct {
		StatusList *struct {
			Idx *uint64 `cbor:"idx"`
			URI string  `cbor:"uri"`
		} `cbor:"status_list"`
	} `cbor:"status"`
}

// DecodeCredential decodes the credential string of an OID4VCI `mso_mdoc` credential response (base64url,
// padding tolerated) to the CBOR IssuerSigned structure.
func DecodeCredential(credential string) ([]byte, error) {
	if len(credential) > base64.RawURLEncoding.EncodedLen(MaxEncodedBytes) {
		return nil, fmt.Errorf("%w: credential longer than %d bytes", ErrMalformed, MaxEncodedBytes)
	}
	b, err := base64.RawURLEncoding.DecodeString(string(bytes.TrimRight([]byte(credential), "=")))
	if err != nil {
		return nil, fmt.Errorf("%w: credential is not base64url: %w", ErrMalformed, err)
	}
	return b, nil
}

// Certificates returns the x5chain of an IssuerSigned structure's IssuerAuth (the document signer's certificate
// first) without checking anything else: what a verifier reads to decide whether it trusts the signer, before
// Verify.
func Certificates(issuerSigned []byte) ([]*x509.Certificate, error) {
	if len(issuerSigned) > MaxEncodedBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxEncodedBytes)
	}
	var in issuerSignedIn
	if err := decMode.Unmarshal(issuerSigned, &in); err != nil {
		return nil, fmt.Errorf("%w: IssuerSigned: %w", ErrMalformed, err)
	}
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(in.IssuerAuth); err != nil {
		return nil, fmt.Errorf("%w: issuerAuth: %w", ErrMalformed, err)
	}
	return x5chain(msg.Headers)
}

// Verify parses an IssuerSigned structure and checks it: the COSE_Sign1 signature (alg ES256) with the first
// certificate of x5chain, that certificate chain against opts.Roots, the MSO's version, digest algorithm,
// docType and validity at opts.Now, and every item's digest against the MSO.
func Verify(issuerSigned []byte, opts VerifyOptions) (*Verified, error) {
	if len(issuerSigned) > MaxEncodedBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxEncodedBytes)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	var in issuerSignedIn
	if err := decMode.Unmarshal(issuerSigned, &in); err != nil {
		return nil, fmt.Errorf("%w: IssuerSigned: %w", ErrMalformed, err)
	}
	if len(in.IssuerAuth) == 0 {
		return nil, fmt.Errorf("%w: IssuerSigned without issuerAuth", ErrMalformed)
	}
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(in.IssuerAuth); err != nil {
		return nil, fmt.Errorf("%w: issuerAuth: %w", ErrMalformed, err)
	}
	alg, err := msg.Headers.Protected.Algorithm()
	if err != nil || alg != cose.AlgorithmES256 {
		return nil, fmt.Errorf("%w: issuerAuth: protected alg must be ES256 (-7)", ErrSignature)
	}
	chain, err := x5chain(msg.Headers)
	if err != nil {
		return nil, err
	}
	if err := verifyChain(chain, opts.Roots, now); err != nil {
		return nil, err
	}
	verifier, err := cose.NewVerifier(cose.AlgorithmES256, chain[0].PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: document signer key: %w", ErrSignature, err)
	}
	if err := msg.Verify(nil, verifier); err != nil {
		return nil, fmt.Errorf("%w: issuerAuth: %w", ErrSignature, err)
	}
	msoBytes, err := unwrapEncodedCBOR(msg.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: MobileSecurityObjectBytes: %w", ErrMalformed, err)
	}
	var mso msoIn
	if err := decMode.Unmarshal(msoBytes, &mso); err != nil {
		return nil, fmt.Errorf("%w: MobileSecurityObject: %w", ErrMalformed, err)
	}
	out := &Verified{DocType: mso.DocType, Chain: chain, ProtectedAlgorithm: alg}
	if err := checkMSO(&mso, opts.DocType, now, out); err != nil {
		return nil, err
	}
	if err := verifyItems(in.NameSpaces, mso.ValueDigests, out); err != nil {
		return nil, err
	}
	return out, nil
}

// x5chain reads the x5chain header (label 33; unprotected as 18013-5 puts it, or protected): one certificate
// as a byte string, or an array of them.
func x5chain(h cose.Headers) ([]*x509.Certificate, error) {
	v, ok := h.Unprotected[cose.HeaderLabelX5Chain]
	if !ok {
		v, ok = h.Protected[cose.HeaderLabelX5Chain]
	}
	if !ok {
		return nil, fmt.Errorf("%w: issuerAuth has no x5chain", ErrUntrusted)
	}
	var ders [][]byte
	switch x := v.(type) {
	case []byte:
		ders = [][]byte{x}
	case []any:
		for _, e := range x {
			b, ok := e.([]byte)
			if !ok {
				return nil, fmt.Errorf("%w: x5chain element is not a byte string", ErrMalformed)
			}
			ders = append(ders, b)
		}
	default:
		return nil, fmt.Errorf("%w: x5chain is neither a byte string nor an array", ErrMalformed)
	}
	if len(ders) == 0 || len(ders) > maxCertificates {
		return nil, fmt.Errorf("%w: x5chain must hold 1 to %d certificates", ErrMalformed, maxCertificates)
	}
	chain := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: x5chain[%d]: %w", ErrMalformed, i, err)
		}
		chain[i] = c
	}
	return chain, nil
}

// verifyChain checks the document signer certificate against roots at now, the rest of x5chain serving as
// intermediates.
func verifyChain(chain []*x509.Certificate, roots *x509.CertPool, now time.Time) error {
	if roots == nil {
		return fmt.Errorf("%w: no trusted roots given", ErrUntrusted)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	return nil
}

// checkMSO checks the MSO's fixed values, docType and validity, and fills out's validity, device key and status.
func checkMSO(mso *msoIn, docType string, now time.Time, out *Verified) error {
	switch {
	case mso.Version != MSOVersion:
		return fmt.Errorf("%w: MSO version %q, want %q", ErrMalformed, mso.Version, MSOVersion)
	case mso.DigestAlgorithm != DigestAlgorithm:
		return fmt.Errorf("%w: MSO digestAlgorithm %q, want %q", ErrMalformed, mso.DigestAlgorithm, DigestAlgorithm)
	case mso.DocType == "":
		return fmt.Errorf("%w: MSO without docType", ErrMalformed)
	case docType != "" && mso.DocType != docType:
		return fmt.Errorf("%w: docType %q, want %q", ErrMalformed, mso.DocType, docType)
	}
	var err error
	for _, f := range []struct {
		name string
		tag  cbor.RawTag
		dst  *time.Time
	}{{"signed", mso.ValidityInfo.Signed, &out.Signed}, {"validFrom", mso.ValidityInfo.ValidFrom, &out.ValidFrom}, {"validUntil", mso.ValidityInfo.ValidUntil, &out.ValidUntil}} {
		if *f.dst, err = parseTDate(f.tag); err != nil {
			return fmt.Errorf("%w: validityInfo.%s: %w", ErrMalformed, f.name, err)
		}
	}
	switch {
	case out.ValidFrom.Before(out.Signed):
		return fmt.Errorf("%w: validFrom is before signed", ErrValidity)
	case !out.ValidUntil.After(out.ValidFrom):
		return fmt.Errorf("%w: validUntil is not after validFrom", ErrValidity)
	case now.Before(out.ValidFrom):
		return fmt.Errorf("%w: not valid before %s", ErrValidity, out.ValidFrom.Format(time.RFC3339))
	case !now.Before(out.ValidUntil):
		return fmt.Errorf("%w: expired at %s", ErrValidity, out.ValidUntil.Format(time.RFC3339))
	}
	var key cose.Key
	if err := key.UnmarshalCBOR(mso.DeviceKeyInfo.DeviceKey); err != nil {
		return fmt.Errorf("%w: deviceKeyInfo.deviceKey: %w", ErrMalformed, err)
	}
	if out.DeviceKey, err = key.PublicKey(); err != nil {
		return fmt.Errorf("%w: deviceKeyInfo.deviceKey: %w", ErrMalformed, err)
	}
	if mso.Status != nil {
		sl := mso.Status.StatusList
		if sl == nil || sl.Idx == nil || sl.URI == "" || *sl.Idx > 1<<62 {
			return fmt.Errorf("%w: status without status_list idx and uri", ErrMalformed)
		}
		out.Status = &StatusReference{Index: int64(*sl.Idx), URI: sl.URI}
	}
	return nil
}

// parseTDate reads tdate: tag 0 over an RFC 3339 date-time.
func parseTDate(tag cbor.RawTag) (time.Time, error) {
	if tag.Number != tagDateTime {
		return time.Time{}, fmt.Errorf("not a tdate (tag 0)")
	}
	var s string
	if err := decMode.Unmarshal(tag.Content, &s); err != nil {
		return time.Time{}, fmt.Errorf("tdate content is not a text string")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("tdate is not RFC 3339")
	}
	return t, nil
}

// unwrapEncodedCBOR returns the bytes inside #6.24(bstr).
func unwrapEncodedCBOR(b []byte) ([]byte, error) {
	var tag cbor.RawTag
	if err := decMode.Unmarshal(b, &tag); err != nil {
		return nil, err
	}
	if tag.Number != tagEncodedCBOR {
		return nil, fmt.Errorf("tag %d, want 24", tag.Number)
	}
	var inner []byte
	if err := decMode.Unmarshal(tag.Content, &inner); err != nil {
		return nil, fmt.Errorf("tag 24 content is not a byte string")
	}
	return inner, nil
}

// verifyItems decodes every IssuerSignedItem and checks its digest against the MSO's.
func verifyItems(nameSpaces map[string][]cbor.RawMessage, digests map[string]map[uint64][]byte, out *Verified) error {
	out.NameSpaces = make(map[string]map[string]any, len(nameSpaces))
	out.DigestIDs = make(map[string]map[string]uint64, len(nameSpaces))
	out.RandomLengths = make(map[string]map[string]int, len(nameSpaces))
	for ns, items := range nameSpaces {
		nsDigests, ok := digests[ns]
		if !ok {
			return fmt.Errorf("%w: namespace %q has no digests in the MSO", ErrDigest, ns)
		}
		values := make(map[string]any, len(items))
		ids := make(map[string]uint64, len(items))
		randoms := make(map[string]int, len(items))
		seen := make(map[uint64]bool, len(items))
		for i, raw := range items {
			itemBytes, err := unwrapEncodedCBOR(raw)
			if err != nil {
				return fmt.Errorf("%w: %s[%d]: IssuerSignedItemBytes: %w", ErrMalformed, ns, i, err)
			}
			var item issuerSignedItem
			if err := decMode.Unmarshal(itemBytes, &item); err != nil {
				return fmt.Errorf("%w: %s[%d]: IssuerSignedItem: %w", ErrMalformed, ns, i, err)
			}
			if item.ElementIdentifier == "" {
				return fmt.Errorf("%w: %s[%d]: no elementIdentifier", ErrMalformed, ns, i)
			}
			if _, dup := values[item.ElementIdentifier]; dup || seen[item.DigestID] {
				return fmt.Errorf("%w: %s[%d]: repeats an element identifier or digest ID", ErrMalformed, ns, i)
			}
			want, ok := nsDigests[item.DigestID]
			sum := sha256.Sum256(raw)
			if !ok || subtle.ConstantTimeCompare(sum[:], want) != 1 {
				return fmt.Errorf("%w: %s/%s", ErrDigest, ns, item.ElementIdentifier)
			}
			seen[item.DigestID] = true
			values[item.ElementIdentifier] = plain(item.ElementValue)
			ids[item.ElementIdentifier] = item.DigestID
			randoms[item.ElementIdentifier] = len(item.Random)
		}
		out.NameSpaces[ns] = values
		out.DigestIDs[ns] = ids
		out.RandomLengths[ns] = randoms
	}
	return nil
}

// plain turns decoded maps whose keys are all text into map[string]any, recursively, so decoded values compare
// with JSON-decoded claims.
func plain(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			s, ok := k.(string)
			if !ok {
				for k2, e2 := range x {
					x[k2] = plain(e2)
				}
				return x
			}
			m[s] = plain(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
		return x
	default:
		return v
	}
}
