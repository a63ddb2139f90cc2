package mdoc

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/veraison/go-cose"
)

func issue(tb testing.TB, is *Issuer, doc Document) []byte {
	tb.Helper()
	out, err := is.Issue(context.Background(), doc)
	if err != nil {
		tb.Fatal(err)
	}
	return out.IssuerSigned
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	is, signer, pool := testIssuer(t)
	holder := newECKey(t, elliptic.P256())
	doc := mdlDocument(t, holder)
	b := issue(t, is, doc)
	if signer.calls != 1 {
		t.Errorf("signatures = %d, want 1 per mdoc", signer.calls)
	}
	v, err := Verify(b, VerifyOptions{Roots: pool, DocType: doc.DocType})
	if err != nil {
		t.Fatal(err)
	}
	mdl := v.NameSpaces["org.iso.18013.5.1"]
	want := map[string]any{
		"given_name":      "Erika",
		"family_name":     "Mustermann",
		"birth_date":      cbor.Tag{Number: 1004, Content: "1964-08-12"},
		"age_over_18":     true,
		"issuing_country": "UT",
		"height":          int64(175),
		"weight":          72.5,
		"driving_privileges": []any{
			map[string]any{"vehicle_category_code": "B", "issue_date": "2020-01-01"},
		},
		"portrait":  []byte{0xff, 0xd8, 0xff},
		"nick_name": nil,
	}
	if !reflect.DeepEqual(mdl, want) {
		t.Errorf("org.iso.18013.5.1 = %#v\nwant %#v", mdl, want)
	}
	if got := v.NameSpaces["org.iso.18013.5.1.aamva"]["organ_donor"]; got != int64(1) {
		t.Errorf("organ_donor = %#v, want integer 1", got)
	}
	if pub, ok := v.DeviceKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&holder.PublicKey) {
		t.Errorf("device key = %#v, want the holder's", v.DeviceKey)
	}
	if v.Status == nil || *v.Status != *doc.Status {
		t.Errorf("status = %+v, want %+v", v.Status, doc.Status)
	}
	if !v.Signed.Equal(doc.Signed.Truncate(time.Second)) || !v.ValidFrom.Equal(v.Signed) ||
		!v.ValidUntil.Equal(doc.ValidUntil.Truncate(time.Second)) {
		t.Errorf("validity = %v %v %v", v.Signed, v.ValidFrom, v.ValidUntil)
	}
	for ns, ids := range v.DigestIDs {
		got := slices.Sorted(func(yield func(uint64) bool) {
			for _, id := range ids {
				if !yield(id) {
					return
				}
			}
		})
		for i, id := range got {
			if id != uint64(i) {
				t.Errorf("%s digest IDs %v are not a permutation of 0..%d", ns, got, len(got)-1)
				break
			}
		}
		for id, n := range v.RandomLengths[ns] {
			if n != RandomBytes {
				t.Errorf("%s/%s random is %d bytes, want %d", ns, id, n, RandomBytes)
			}
		}
	}
}

// TestStructure decodes what Issue writes with the CBOR and COSE libraries alone, independently of Verify, and
// checks the shape ISO 18013-5 and OID4VCI appendix A.2 give it.
func TestStructure(t *testing.T) {
	is, _, _ := testIssuer(t)
	holder := newECKey(t, elliptic.P256())
	doc := mdlDocument(t, holder)
	b := issue(t, is, doc)

	var top map[string]cbor.RawMessage
	if err := cbor.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(mapKeys(top)); !slices.Equal(keys, []string{"issuerAuth", "nameSpaces"}) {
		t.Fatalf("IssuerSigned keys = %v", keys)
	}
	if !bytes.HasPrefix(b, append([]byte{0xa2, 0x6a}, "issuerAuth"...)) {
		t.Errorf("IssuerSigned does not start with its keys in deterministic order: % x", b[:12])
	}
	// issuerAuth: an untagged COSE_Sign1 array of four.
	if top["issuerAuth"][0] != 0x84 {
		t.Fatalf("issuerAuth starts with %#x, want an array of 4 (untagged COSE_Sign1)", top["issuerAuth"][0])
	}
	var sign1 []cbor.RawMessage
	if err := cbor.Unmarshal(top["issuerAuth"], &sign1); err != nil || len(sign1) != 4 {
		t.Fatalf("issuerAuth: %v (%d elements)", err, len(sign1))
	}
	var protected []byte
	if err := cbor.Unmarshal(sign1[0], &protected); err != nil || !bytes.Equal(protected, []byte{0xa1, 0x01, 0x26}) {
		t.Errorf("protected header = % x, want a1 01 26 ({1: -7})", protected)
	}
	var unprotected map[int64]cbor.RawMessage
	if err := cbor.Unmarshal(sign1[1], &unprotected); err != nil {
		t.Fatal(err)
	}
	var x5 []byte
	if err := cbor.Unmarshal(unprotected[33], &x5); err != nil || !bytes.Equal(x5, is.Chain()[0]) {
		t.Errorf("unprotected x5chain (33) is not the document signer certificate as a byte string: %v", err)
	}
	// The signature verifies with go-cose over the payload as sent.
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(top["issuerAuth"]); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(x5)
	verifier, _ := cose.NewVerifier(cose.AlgorithmES256, cert.PublicKey)
	if err := msg.Verify(nil, verifier); err != nil {
		t.Fatalf("go-cose does not verify issuerAuth: %v", err)
	}
	// Payload: MobileSecurityObjectBytes = #6.24(bstr .cbor MSO), the MSO in deterministic encoding.
	var payloadTag cbor.Tag
	if err := cbor.Unmarshal(msg.Payload, &payloadTag); err != nil || payloadTag.Number != 24 {
		t.Fatalf("payload is not tag 24: %v", err)
	}
	msoBytes := payloadTag.Content.([]byte)
	var mso map[string]any
	if err := cbor.Unmarshal(msoBytes, &mso); err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(mapKeys(mso)); !slices.Equal(keys, []string{"deviceKeyInfo", "digestAlgorithm", "docType", "status", "validityInfo", "valueDigests", "version"}) {
		t.Errorf("MSO keys = %v", keys)
	}
	if mso["version"] != "1.0" || mso["digestAlgorithm"] != "SHA-256" || mso["docType"] != doc.DocType {
		t.Errorf("MSO version/digestAlgorithm/docType = %v/%v/%v", mso["version"], mso["digestAlgorithm"], mso["docType"])
	}
	// Re-encode what was decoded in core deterministic encoding (tdate back as tag 0 RFC 3339): the same bytes.
	opts := cbor.CoreDetEncOptions()
	opts.Time, opts.TimeTag = cbor.TimeRFC3339, cbor.EncTagRequired
	reenc, _ := opts.EncMode()
	again, err := reenc.Marshal(mso)
	if err != nil || !bytes.Equal(again, msoBytes) {
		t.Errorf("the MSO is not in core deterministic encoding (re-encoding differs)")
	}
	validity := mso["validityInfo"].(map[any]any)
	for _, k := range []string{"signed", "validFrom", "validUntil"} {
		if _, ok := validity[k].(time.Time); !ok {
			t.Errorf("validityInfo.%s = %#v, want a tdate", k, validity[k])
		}
	}
	var rawValidity map[string]cbor.RawTag
	var msoRaw map[string]cbor.RawMessage
	_ = cbor.Unmarshal(msoBytes, &msoRaw)
	if err := cbor.Unmarshal(msoRaw["validityInfo"], &rawValidity); err != nil {
		t.Fatal(err)
	}
	for k, tag := range rawValidity {
		var s string
		_ = cbor.Unmarshal(tag.Content, &s)
		if tag.Number != 0 || !strings.HasSuffix(s, "Z") || strings.Contains(s, ".") || len(s) != len("2006-01-02T15:04:05Z") {
			t.Errorf("validityInfo.%s = tag %d %q, want tag 0 RFC 3339 UTC whole seconds", k, tag.Number, s)
		}
	}
	status := mso["status"].(map[any]any)["status_list"].(map[any]any)
	if status["idx"] != uint64(42) || status["uri"] != doc.Status.URI {
		t.Errorf("status = %v", status)
	}
	deviceKey := mso["deviceKeyInfo"].(map[any]any)["deviceKey"].(map[any]any)
	point, _ := holder.PublicKey.Bytes() // 0x04 || x || y
	x, y := point[1:33], point[33:]
	if deviceKey[uint64(1)] != uint64(2) || deviceKey[int64(-1)] != uint64(1) ||
		!bytes.Equal(deviceKey[int64(-2)].([]byte), x) || !bytes.Equal(deviceKey[int64(-3)].([]byte), y) {
		t.Errorf("deviceKey = %v, want COSE_Key kty 2 (EC2), crv 1 (P-256), x, y of the holder key", deviceKey)
	}
	// nameSpaces: arrays of #6.24(bstr) whose SHA-256 digests are the MSO's valueDigests.
	var nameSpaces map[string][]cbor.RawMessage
	if err := cbor.Unmarshal(top["nameSpaces"], &nameSpaces); err != nil {
		t.Fatal(err)
	}
	digests := mso["valueDigests"].(map[any]any)
	salts := map[string]bool{}
	for ns, items := range nameSpaces {
		nsDigests := digests[ns].(map[any]any)
		if len(nsDigests) != len(items) {
			t.Errorf("%s: %d digests for %d items", ns, len(nsDigests), len(items))
		}
		for _, raw := range items {
			var tag cbor.Tag
			if err := cbor.Unmarshal(raw, &tag); err != nil || tag.Number != 24 {
				t.Fatalf("%s item is not tag 24", ns)
			}
			var item map[string]any
			if err := cbor.Unmarshal(tag.Content.([]byte), &item); err != nil {
				t.Fatal(err)
			}
			if keys := slices.Sorted(mapKeys(item)); !slices.Equal(keys, []string{"digestID", "elementIdentifier", "elementValue", "random"}) {
				t.Errorf("IssuerSignedItem keys = %v", keys)
			}
			sum := sha256.Sum256(raw)
			if !bytes.Equal(nsDigests[item["digestID"]].([]byte), sum[:]) {
				t.Errorf("%s/%v: digest is not SHA-256 of IssuerSignedItemBytes", ns, item["elementIdentifier"])
			}
			salt := string(item["random"].([]byte))
			if len(salt) < 16 || salts[salt] {
				t.Errorf("%s/%v: salt of %d bytes, repeated %v", ns, item["elementIdentifier"], len(salt), salts[salt])
			}
			salts[salt] = true
		}
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestIssueIsRandomised(t *testing.T) {
	is, _, _ := testIssuer(t)
	doc := mdlDocument(t, newECKey(t, elliptic.P256()))
	a, b := issue(t, is, doc), issue(t, is, doc)
	if bytes.Equal(a, b) {
		t.Fatal("two issuances of the same document are byte-identical: salts are not fresh")
	}
}

func TestCertificates(t *testing.T) {
	is, _, _ := testIssuer(t)
	b := issue(t, is, mdlDocument(t, newECKey(t, elliptic.P256())))
	chain, err := Certificates(b)
	if err != nil || len(chain) != 1 || !bytes.Equal(chain[0].Raw, is.Chain()[0]) {
		t.Fatalf("Certificates: %v %d", err, len(chain))
	}
	for _, bad := range [][]byte{nil, {0xa0}, b[:len(b)/2]} {
		if _, err := Certificates(bad); err == nil {
			t.Errorf("Certificates(% x...) accepted", bad[:min(len(bad), 4)])
		}
	}
}

func TestChainOfSeveralCertificates(t *testing.T) {
	is, signer, pool := testIssuer(t)
	root := newECKey(t, elliptic.P256())
	rootDER, err := SelfSignedCertificate(root, SelfSignedOptions{CommonName: "root", Country: "UT",
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	chained, err := NewIssuer(signer, [][]byte{is.Chain()[0], rootDER})
	if err != nil {
		t.Fatal(err)
	}
	b := issue(t, chained, mdlDocument(t, newECKey(t, elliptic.P256())))
	v, err := Verify(b, VerifyOptions{Roots: pool})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Chain) != 2 {
		t.Errorf("x5chain has %d certificates, want 2 (an array)", len(v.Chain))
	}
}

func TestVerifyRefusesTampering(t *testing.T) {
	is, _, pool := testIssuer(t)
	doc := mdlDocument(t, newECKey(t, elliptic.P256()))
	good := issue(t, is, doc)

	t.Run("element value", func(t *testing.T) {
		b := bytes.Clone(good)
		i := bytes.Index(b, []byte("Mustermann"))
		b[i] = 'N'
		if _, err := Verify(b, VerifyOptions{Roots: pool}); !errors.Is(err, ErrDigest) {
			t.Fatalf("err = %v, want ErrDigest", err)
		}
	})
	t.Run("signature", func(t *testing.T) {
		var top map[string]cbor.RawMessage
		_ = cbor.Unmarshal(good, &top)
		var msg cose.UntaggedSign1Message
		_ = msg.UnmarshalCBOR(top["issuerAuth"])
		msg.Signature[5] ^= 1
		auth, _ := msg.MarshalCBOR()
		b, _ := encMode.Marshal(map[string]cbor.RawMessage{"nameSpaces": top["nameSpaces"], "issuerAuth": auth})
		if _, err := Verify(b, VerifyOptions{Roots: pool}); !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v, want ErrSignature", err)
		}
	})
	t.Run("untrusted signer", func(t *testing.T) {
		_, _, other := testIssuer(t)
		if _, err := Verify(good, VerifyOptions{Roots: other}); !errors.Is(err, ErrUntrusted) {
			t.Fatalf("err = %v, want ErrUntrusted", err)
		}
		if _, err := Verify(good, VerifyOptions{}); !errors.Is(err, ErrUntrusted) {
			t.Fatalf("no roots: err = %v, want ErrUntrusted", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		if _, err := Verify(good, VerifyOptions{Roots: pool, Now: doc.ValidUntil.Add(time.Second)}); !errors.Is(err, ErrValidity) && !errors.Is(err, ErrUntrusted) {
			t.Fatalf("err = %v, want ErrValidity", err)
		}
		late := doc
		late.Signed = time.Now().Add(time.Hour)
		late.ValidUntil = late.Signed.Add(time.Hour)
		if _, err := Verify(issue(t, is, late), VerifyOptions{Roots: pool}); !errors.Is(err, ErrValidity) {
			t.Fatalf("not yet valid: err = %v, want ErrValidity", err)
		}
	})
	t.Run("doctype", func(t *testing.T) {
		if _, err := Verify(good, VerifyOptions{Roots: pool, DocType: "eu.europa.ec.eudi.pid.1"}); !errors.Is(err, ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		for _, b := range [][]byte{nil, {0xa0}, {0xff}, good[:len(good)/2], append(bytes.Clone(good), 0)} {
			if _, err := Verify(b, VerifyOptions{Roots: pool}); err == nil {
				t.Errorf("Verify(% x...) accepted", b[:min(len(b), 8)])
			}
		}
	})
}

func TestIssueRefusesBadInput(t *testing.T) {
	is, signer, _ := testIssuer(t)
	holder := newECKey(t, elliptic.P256())
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edJWK, _ := jwk.FromRaw(edPub)
	privJWK, _ := jwk.FromRaw(holder)
	deep := any("x")
	for range 20 {
		deep = []any{deep}
	}
	cases := map[string]func(*Document){
		"no doctype":       func(d *Document) { d.DocType = "" },
		"control in type":  func(d *Document) { d.DocType = "a\nb" },
		"long doctype":     func(d *Document) { d.DocType = strings.Repeat("a", MaxDocTypeLen+1) },
		"no namespaces":    func(d *Document) { d.NameSpaces = nil },
		"empty namespace":  func(d *Document) { d.NameSpaces["x"] = map[string]any{} },
		"empty identifier": func(d *Document) { d.NameSpaces["x"] = map[string]any{"": "v"} },
		"bad utf8 value":   func(d *Document) { d.NameSpaces["x"] = map[string]any{"a": "\xff"} },
		"bad utf8 name":    func(d *Document) { d.NameSpaces["x\xff"] = map[string]any{"a": "v"} },
		"nan":              func(d *Document) { d.NameSpaces["x"] = map[string]any{"a": math.NaN()} },
		"inf":              func(d *Document) { d.NameSpaces["x"] = map[string]any{"a": math.Inf(1)} },
		"too deep":         func(d *Document) { d.NameSpaces["x"] = map[string]any{"a": deep} },
		"unsupported type": func(d *Document) { d.NameSpaces["x"] = map[string]any{"a": struct{}{}} },
		"bad full-date":    func(d *Document) { d.NameSpaces["x"] = map[string]any{"a": FullDate("12.08.1964")} },
		"no device key":    func(d *Document) { d.DeviceKey = nil },
		"private key":      func(d *Document) { d.DeviceKey = privJWK },
		"ed25519 key":      func(d *Document) { d.DeviceKey = edJWK },
		"no validUntil":    func(d *Document) { d.ValidUntil = time.Time{} },
		"until before":     func(d *Document) { d.ValidUntil = d.Signed.Add(-time.Hour) },
		"from before sign": func(d *Document) { d.ValidFrom = d.Signed.Add(-time.Hour) },
		"too long":         func(d *Document) { d.ValidUntil = d.Signed.Add(21 * 365 * 24 * time.Hour) },
		"negative status":  func(d *Document) { d.Status = &StatusReference{Index: -1, URI: "https://x"} },
		"status no uri":    func(d *Document) { d.Status = &StatusReference{Index: 1} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			doc := mdlDocument(t, holder)
			mutate(&doc)
			_, err := is.Issue(context.Background(), doc)
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("err = %v, want ErrInvalidDocument", err)
			}
			if strings.Contains(err.Error(), "Mustermann") {
				t.Errorf("error %q carries an element value", err)
			}
		})
	}
	if signer.calls != 0 {
		t.Errorf("refused documents cost %d signatures", signer.calls)
	}
}

func TestSignerFailure(t *testing.T) {
	is, signer, _ := testIssuer(t)
	signer.fail = errors.New("kms unavailable")
	_, err := is.Issue(context.Background(), mdlDocument(t, newECKey(t, elliptic.P256())))
	if !errors.Is(err, ErrSignature) || !errors.Is(err, signer.fail) {
		t.Fatalf("err = %v, want ErrSignature wrapping the signer's error", err)
	}
}

func TestNewIssuerChecksCertificate(t *testing.T) {
	is, _, _ := testIssuer(t)
	other := &kmsLikeSigner{key: newECKey(t, elliptic.P256())}
	if _, err := NewIssuer(other, is.Chain()); !errors.Is(err, ErrSignature) {
		t.Errorf("a certificate of another key: err = %v, want ErrSignature", err)
	}
	if _, err := NewIssuer(other, nil); !errors.Is(err, ErrSignature) {
		t.Errorf("no chain: err = %v", err)
	}
	if _, err := NewIssuer(other, [][]byte{{1, 2, 3}}); !errors.Is(err, ErrSignature) {
		t.Errorf("garbage certificate: err = %v", err)
	}
}

// TestNewIssuerNeedsCountry: ISO/IEC 18013-5 requires countryName in the document signer certificate's subject
// and in its issuer's (the IACA's) name, the same country in both, and mdoc verifiers refuse a document without it
// (@animo-id/mdoc reads the issuer name's C: "Country name (C) must be present in the issuer certificate's subject
// distinguished name"). A configured chain (ISSUER_CERT_CHAIN) lacking it made mdocs that verifiers refused, the
// local chain of make run among them; the issuer now refuses to sign with it, saying why and how to fix it.
func TestNewIssuerNeedsCountry(t *testing.T) {
	key := newECKey(t, elliptic.P256())
	signer := &kmsLikeSigner{key: key}
	caKey := newECKey(t, elliptic.P256())
	now := time.Now()
	certificate := func(issuerCountry, country []string) []byte {
		issuer := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test IACA", Country: issuerCountry},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "issuer.example", Country: country},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	for name, c := range map[string][2][]string{
		"no country":                {{"DE"}, nil},
		"empty":                     {{"DE"}, {""}},
		"three letters":             {{"DE"}, {"DEU"}},
		"two":                       {{"DE"}, {"DE", "FR"}},
		"issuer without country":    {nil, {"DE"}},
		"issuer of another country": {{"FR"}, {"DE"}},
	} {
		_, err := NewIssuer(signer, [][]byte{certificate(c[0], c[1])})
		if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "countryName") {
			t.Errorf("%s: err = %v, want ErrSignature naming countryName", name, err)
		}
	}
	if _, err := NewIssuer(signer, [][]byte{certificate([]string{"DE"}, []string{"DE"})}); err != nil {
		t.Errorf("C=DE issued by C=DE: %v", err)
	}
}

func TestSelfSignedCertificate(t *testing.T) {
	s := &kmsLikeSigner{key: newECKey(t, elliptic.P256())}
	now := time.Now()
	opts := SelfSignedOptions{CommonName: "issuer.example", Country: "DE", NotBefore: now, NotAfter: now.Add(time.Hour)}
	der, err := SelfSignedCertificate(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if c.Subject.CommonName != "issuer.example" || !slices.Equal(c.Subject.Country, []string{"DE"}) || c.Issuer.String() != c.Subject.String() {
		t.Errorf("subject %v issuer %v", c.Subject, c.Issuer)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature || len(c.UnknownExtKeyUsage) != 1 || !c.UnknownExtKeyUsage[0].Equal(OIDDocumentSigner) || c.IsCA {
		t.Errorf("key usage %v, EKU %v, CA %v: want a document signer (1.0.18013.5.1.2)", c.KeyUsage, c.UnknownExtKeyUsage, c.IsCA)
	}
	again, _ := SelfSignedCertificate(s, opts)
	c2, _ := x509.ParseCertificate(again)
	if c2.SerialNumber.Cmp(c.SerialNumber) != 0 {
		t.Error("two certificates of one key have different serial numbers")
	}
	for name, bad := range map[string]SelfSignedOptions{
		"no country":   {CommonName: "x", NotBefore: now, NotAfter: now.Add(time.Hour)},
		"no cn":        {Country: "DE", NotBefore: now, NotAfter: now.Add(time.Hour)},
		"bad period":   {CommonName: "x", Country: "DE", NotBefore: now, NotAfter: now},
		"long country": {CommonName: "x", Country: "DEU", NotBefore: now, NotAfter: now.Add(time.Hour)},
	} {
		if _, err := SelfSignedCertificate(s, bad); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestDeviceKeyCurves(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k := newECKey(t, curve)
		b, err := DeviceKey(publicJWK(t, k))
		if err != nil {
			t.Fatalf("%s: %v", curve.Params().Name, err)
		}
		var ck cose.Key
		if err := ck.UnmarshalCBOR(b); err != nil {
			t.Fatal(err)
		}
		pub, err := ck.PublicKey()
		if err != nil || !pub.(*ecdsa.PublicKey).Equal(&k.PublicKey) {
			t.Errorf("%s: COSE_Key does not round-trip: %v", curve.Params().Name, err)
		}
	}
}

func TestDecodeCredential(t *testing.T) {
	is, _, pool := testIssuer(t)
	iss, err := is.Issue(context.Background(), mdlDocument(t, newECKey(t, elliptic.P256())))
	if err != nil {
		t.Fatal(err)
	}
	enc := iss.Encoded()
	if strings.ContainsAny(enc, "+/=") {
		t.Errorf("credential %q is not unpadded base64url", enc[:20])
	}
	b, err := DecodeCredential(enc)
	if err != nil || !bytes.Equal(b, iss.IssuerSigned) {
		t.Fatalf("DecodeCredential: %v", err)
	}
	if _, err := Verify(b, VerifyOptions{Roots: pool}); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeCredential("not base64!"); !errors.Is(err, ErrMalformed) {
		t.Errorf("err = %v", err)
	}
}

func TestSelfSignedIssuer(t *testing.T) {
	s := &kmsLikeSigner{key: newECKey(t, elliptic.P256())}
	ss := NewSelfSignedIssuer(s, "issuer.example")
	if s.calls != 0 {
		t.Fatal("the certificate was made before the first document")
	}
	s.fail = errors.New("kms unavailable")
	if _, err := ss.Issue(context.Background(), mdlDocument(t, newECKey(t, elliptic.P256()))); !errors.Is(err, s.fail) {
		t.Fatalf("err = %v, want the signer's failure", err)
	}
	s.fail = nil
	var first []byte
	for i := range 3 {
		iss, err := ss.Issue(context.Background(), mdlDocument(t, newECKey(t, elliptic.P256())))
		if err != nil {
			t.Fatal(err)
		}
		is, _ := ss.Issuer(context.Background())
		if i == 0 {
			first = is.Chain()[0]
		} else if !bytes.Equal(first, is.Chain()[0]) {
			t.Fatal("the certificate changed between documents")
		}
		cert, _ := x509.ParseCertificate(first)
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		if _, err := Verify(iss.IssuerSigned, VerifyOptions{Roots: pool}); err != nil {
			t.Fatal(err)
		}
		if cert.Subject.Country[0] != SelfSignedCountry || cert.Subject.CommonName != "issuer.example" ||
			cert.NotAfter.Before(time.Now().AddDate(10, 0, 0)) {
			t.Errorf("certificate %v valid until %v", cert.Subject, cert.NotAfter)
		}
	}
	if s.calls != 4 {
		t.Errorf("signatures = %d, want 1 for the certificate and 1 per document", s.calls)
	}
}
