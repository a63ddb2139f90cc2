package interop

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/mdoc"
)

type mdocCheck struct {
	Category, Check, Status, Reason string
}

type mdocVerifyOutput struct {
	Checks     []mdocCheck               `json:"checks"`
	DocType    string                    `json:"docType"`
	NameSpaces map[string]map[string]any `json:"nameSpaces"`
	MSO        struct {
		Version         string         `json:"version"`
		DigestAlgorithm string         `json:"digestAlgorithm"`
		Status          map[string]any `json:"status"`
		DeviceKey       map[string]any `json:"deviceKey"`
	} `json:"mso"`
}

// failed lists the checks @animo-id/mdoc failed.
func (o *mdocVerifyOutput) failed() []mdocCheck {
	var out []mdocCheck
	for _, c := range o.Checks {
		if c.Status != "PASSED" {
			out = append(out, c)
		}
	}
	return out
}

func (o *mdocVerifyOutput) passed(check string) bool {
	for _, c := range o.Checks {
		if c.Status == "PASSED" && strings.Contains(c.Check, check) {
			return true
		}
	}
	return false
}

// mdocIssuer is an mdoc issuer over a fresh key with its self-signed document signer certificate (country UT, so
// that the mDL's issuing_country matches it as 18013-5 asks).
func mdocIssuer(tb testing.TB) (*mdoc.Issuer, []byte) {
	tb.Helper()
	signer, _ := newSigner(tb)
	now := time.Now()
	cert, err := mdoc.SelfSignedCertificate(signer.key, mdoc.SelfSignedOptions{CommonName: "issuer.example",
		Country: "UT", NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)})
	if err != nil {
		tb.Fatal(err)
	}
	is, err := mdoc.NewIssuer(signer, [][]byte{cert})
	if err != nil {
		tb.Fatal(err)
	}
	return is, cert
}

func mdlDocument(tb testing.TB, holderPub jwk.Key) mdoc.Document {
	tb.Helper()
	signed := time.Now().Add(-time.Minute)
	return mdoc.Document{
		DocType: "org.iso.18013.5.1.mDL",
		NameSpaces: map[string]map[string]any{
			"org.iso.18013.5.1": {
				"family_name":     "Mustermann",
				"given_name":      "Erika",
				"birth_date":      mdoc.FullDate("1964-08-12"),
				"issuing_country": "UT",
				"age_over_18":     true,
				"document_number": "T22000129",
				"portrait":        []byte{0xff, 0xd8, 0xff, 0xe0},
				"driving_privileges": []any{
					map[string]any{"vehicle_category_code": "B", "issue_date": "2020-01-01"},
				},
			},
			"org.iso.18013.5.1.aamva": {"organ_donor": float64(1)},
		},
		DeviceKey:  holderPub,
		Signed:     signed,
		ValidUntil: signed.Add(365 * 24 * time.Hour),
		Status:     &mdoc.StatusReference{Index: 3, URI: "https://issuer.example/status-lists/1"},
	}
}

// issuedMdl is mdlDocument issued by a fresh mdocIssuer for a fresh holder: the mdoc, the document, the document
// signer certificate and the holder's private key.
func issuedMdl(tb testing.TB) (*mdoc.Issued, mdoc.Document, []byte, *ecdsa.PrivateKey) {
	tb.Helper()
	is, cert := mdocIssuer(tb)
	holder, holderPub := newKey(tb)
	doc := mdlDocument(tb, holderPub)
	iss, err := is.Issue(context.Background(), doc)
	if err != nil {
		tb.Fatal(err)
	}
	return iss, doc, cert, holder
}

func verifyMdoc(tb testing.TB, credential string, docType string, cert []byte, device *ecdsa.PrivateKey) *mdocVerifyOutput {
	tb.Helper()
	priv, err := jwk.FromRaw(device)
	if err != nil {
		tb.Fatal(err)
	}
	var out mdocVerifyOutput
	testkit.RunNode(tb, "@animo-id/mdoc", "mdoc_verify.cjs", map[string]any{
		"credential": credential, "docType": docType, "trustedCertificate": base64.StdEncoding.EncodeToString(cert),
		"devicePrivateJwk": priv, "now": time.Now().UnixMilli(),
	}, &out)
	return &out
}

// TestAnimoMdocVerifiesOurMdoc: @animo-id/mdoc parses our IssuerSigned, verifies the issuer signature with the
// x5chain certificate it trusts, the MSO validity and every digest, and then, with the device key of the MSO,
// a DeviceResponse the holder signs: the device key we bound is the wallet's.
func TestAnimoMdocVerifiesOurMdoc(t *testing.T) {
	iss, doc, cert, holder := issuedMdl(t)
	out := verifyMdoc(t, iss.Encoded(), doc.DocType, cert, holder)
	if f := out.failed(); len(f) != 0 {
		t.Fatalf("@animo-id/mdoc failed checks: %+v", f)
	}
	for _, want := range []string{
		"Issuer signature must be valid",
		"Issuer certificate must be valid",
		"The MSO must be valid at the time of verification",
		"The MSO signed date must be within the validity period of the certificate",
		"Device signature must be valid",
		"The calculated digest for org.iso.18013.5.1/family_name",
		"The calculated digest for org.iso.18013.5.1.aamva/organ_donor",
		"issuing_country",
	} {
		if !out.passed(want) {
			t.Errorf("no PASSED check %q among %+v", want, out.Checks)
		}
	}
	if out.DocType != doc.DocType {
		t.Errorf("docType = %q", out.DocType)
	}
	mdl := out.NameSpaces["org.iso.18013.5.1"]
	if mdl["family_name"] != "Mustermann" || mdl["age_over_18"] != true || mdl["issuing_country"] != "UT" {
		t.Errorf("org.iso.18013.5.1 = %v", mdl)
	}
	if got := canonical(t, mdl["portrait"]); got != `{"bytes":"_9j_4A"}` {
		t.Errorf("portrait = %s, want the bytes", got)
	}
	if got := canonical(t, mdl["birth_date"]); !strings.Contains(got, "1964-08-12") {
		t.Errorf("birth_date = %s", got)
	}
	if got := out.NameSpaces["org.iso.18013.5.1.aamva"]["organ_donor"]; got != float64(1) {
		t.Errorf("organ_donor = %v", got)
	}
	if out.MSO.Version != "1.0" || out.MSO.DigestAlgorithm != "SHA-256" {
		t.Errorf("MSO version %q digestAlgorithm %q", out.MSO.Version, out.MSO.DigestAlgorithm)
	}
	if got := canonical(t, out.MSO.Status); got != `{"status_list":{"idx":3,"uri":"https://issuer.example/status-lists/1"}}` {
		t.Errorf("MSO status = %s", got)
	}
}

// TestAnimoMdocCatchesWhatWeWouldGetWrong: the same verifier fails a document whose element was altered, a
// document signer it does not trust, and a holder that is not the one the MSO binds. The interop test above can
// therefore fail.
func TestAnimoMdocCatchesWhatWeWouldGetWrong(t *testing.T) {
	iss, doc, cert, holder := issuedMdl(t)
	t.Run("altered element", func(t *testing.T) {
		b := bytes.Clone(iss.IssuerSigned)
		i := bytes.Index(b, []byte("Mustermann"))
		b[i] = 'N'
		out := verifyMdoc(t, base64.RawURLEncoding.EncodeToString(b), doc.DocType, cert, holder)
		if !failedCheck(out, "The calculated digest for org.iso.18013.5.1/family_name") {
			t.Errorf("an altered element passed: %+v", out.Checks)
		}
	})
	t.Run("untrusted signer", func(t *testing.T) {
		_, other := mdocIssuer(t)
		out := verifyMdoc(t, iss.Encoded(), doc.DocType, other, holder)
		if !failedCheck(out, "Issuer certificate must be valid") {
			t.Errorf("an untrusted document signer passed: %+v", out.Checks)
		}
	})
	t.Run("other holder", func(t *testing.T) {
		other, _ := newKey(t)
		out := verifyMdoc(t, iss.Encoded(), doc.DocType, cert, other)
		if !failedCheck(out, "Device signature must be valid") {
			t.Errorf("a device signature by another key passed: %+v", out.Checks)
		}
	})
}

func failedCheck(o *mdocVerifyOutput, check string) bool {
	for _, c := range o.Checks {
		if c.Status == "FAILED" && strings.Contains(c.Check, check) {
			return true
		}
	}
	return false
}
