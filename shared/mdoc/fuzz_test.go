package mdoc

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzIssue feeds the encoder what a definition and an organisation's claims can put in a document: a doctype,
// a namespace, an element identifier and a JSON value (decoded as the admin API decodes it, and with
// json.Number). Every input is either refused with ErrInvalidDocument, or issued as a document that verifies and
// gives back the value as CBOR carries it.
func FuzzIssue(f *testing.F) {
	is, _, pool := testIssuer(f)
	holder := publicJWK(f, newECKey(f, elliptic.P256()))
	base := mdlDocument(f, newECKey(f, elliptic.P256()))
	for _, seed := range []struct{ docType, ns, id, value string }{
		{"org.iso.18013.5.1.mDL", "org.iso.18013.5.1", "given_name", `"Erika"`},
		{"eu.europa.ec.eudi.pid.1", "eu.europa.ec.eudi.pid.1", "age_over_18", `true`},
		{"a", "b", "c", `{"nested":[1,2.5,null,{"x":"y"}],"big":12345678901234567890,"neg":-0,"exp":1e300}`},
		{"a", "b", "c", `[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]`},
		{"", "b", "c", `1`},
		{"a", "\x00", "c", `1`},
		{"a", "b", "\xff", `"\ud800"`},
	} {
		f.Add(seed.docType, seed.ns, seed.id, []byte(seed.value))
	}
	f.Fuzz(func(t *testing.T, docType, ns, id string, value []byte) {
		for _, useNumber := range []bool{false, true} {
			var v any
			d := json.NewDecoder(bytes.NewReader(value))
			if useNumber {
				d.UseNumber()
			}
			if d.Decode(&v) != nil {
				return
			}
			doc := base
			doc.DocType = docType
			doc.DeviceKey = holder
			doc.NameSpaces = map[string]map[string]any{ns: {id: v}}
			iss, err := is.Issue(context.Background(), doc)
			if err != nil {
				if !errors.Is(err, ErrInvalidDocument) {
					t.Fatalf("Issue: %v, want ErrInvalidDocument or success", err)
				}
				continue
			}
			got, err := Verify(iss.IssuerSigned, VerifyOptions{Roots: pool, DocType: docType})
			if err != nil {
				t.Fatalf("an issued document does not verify: %v", err)
			}
			want, err := elementValue(v, "v", 0)
			if err != nil {
				t.Fatalf("issued a value elementValue refuses: %v", err)
			}
			if !reflect.DeepEqual(got.NameSpaces[ns][id], want) {
				t.Fatalf("value %#v came back as %#v", want, got.NameSpaces[ns][id])
			}
		}
	})
}

// FuzzVerify feeds Verify arbitrary bytes (seeded with a real document and pieces of it): it must never panic,
// and accept nothing the issuer did not sign.
func FuzzVerify(f *testing.F) {
	is, _, pool := testIssuer(f)
	good := issue(f, is, mdlDocument(f, newECKey(f, elliptic.P256())))
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte{0xa2, 0x6a, 'i', 's', 's', 'u', 'e', 'r', 'A', 'u', 't', 'h', 0x84, 0x40, 0xa0, 0xf6, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Verify(b, VerifyOptions{Roots: pool})
		if err == nil && !bytes.Equal(b, good) {
			// Only re-encodings of the one signed document can verify; the values must be the issued ones.
			if v.NameSpaces["org.iso.18013.5.1"]["family_name"] != "Mustermann" {
				t.Fatalf("verified a document the issuer did not sign")
			}
		}
	})
}
