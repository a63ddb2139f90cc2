package definition_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/mdoc"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

type fuzzSigner struct{ key *ecdsa.PrivateKey }

func (s fuzzSigner) CryptoSigner(context.Context) crypto.Signer { return s.key }

// FuzzMdocDefinitionAndClaims feeds the whole mdoc path what organisations send: a definition (JSON, as the
// admin API decodes it) and a credential subject (JSON). Whatever Normalize and MdocNameSpaces accept, the mdoc
// encoder must issue and the result must verify; whatever they refuse is a *validation.Error.
func FuzzMdocDefinitionAndClaims(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	der, err := mdoc.SelfSignedCertificate(key, mdoc.SelfSignedOptions{CommonName: "fuzz", Country: "ZZ",
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	is, err := mdoc.NewIssuer(fuzzSigner{key}, [][]byte{der})
	if err != nil {
		f.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	holder, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	holderJWK, _ := jwk.FromRaw(&holder.PublicKey)

	f.Add([]byte(`{"label":"mDL","credentialFormat":"mso_mdoc","doctype":"org.iso.18013.5.1.mDL","expirationInDays":30,
		"claims":[{"path":["org.iso.18013.5.1","birth_date"],"valueType":"full-date","mandatory":true},
		{"path":["org.iso.18013.5.1","portrait"],"valueType":"bytes"},{"path":["ns","t"],"valueType":"tdate"}]}`),
		[]byte(`{"org.iso.18013.5.1":{"birth_date":"1964-08-12","portrait":"AAEC","given_name":"Erika"},"ns":{"t":"2025-01-31T12:00:00Z"}}`))
	f.Add([]byte(`{"label":"x","credentialFormat":"mso_mdoc","doctype":"d","expirationInDays":1,"claims":[{"path":["a"]}]}`),
		[]byte(`{"a":{"b":[1,2.5,null,{"c":true}]}}`))
	f.Add([]byte(`{"label":"x","credentialFormat":"mso_mdoc","doctype":"d","expirationInDays":1}`), []byte(`{"a":"flat"}`))
	f.Add([]byte(`{"label":"x","credentialFormat":"mso_mdoc","doctype":"d","expirationInDays":1,"claims":[{"path":["a","b"],"valueType":"bytes"}]}`),
		[]byte(`{"a":{"b":"=="}}`))
	f.Fuzz(func(t *testing.T, specJSON, subjectJSON []byte) {
		var spec definition.Spec
		var subject map[string]any
		if json.Unmarshal(specJSON, &spec) != nil || json.Unmarshal(subjectJSON, &subject) != nil {
			return
		}
		spec.CredentialFormat = definition.FormatMdoc
		var v *validation.Error
		if err := spec.Normalize(); err != nil {
			if !errors.As(err, &v) {
				t.Fatalf("Normalize: %v is not a *validation.Error", err)
			}
			return
		}
		nameSpaces, err := spec.MdocNameSpaces(subject)
		if err != nil {
			if !errors.As(err, &v) {
				t.Fatalf("MdocNameSpaces: %v is not a *validation.Error", err)
			}
			return
		}
		issued, err := is.Issue(context.Background(), mdoc.Document{DocType: spec.DocType, NameSpaces: nameSpaces,
			DeviceKey: holderJWK, Signed: now, ValidUntil: now.AddDate(0, 0, spec.ExpirationInDays)})
		if err != nil {
			t.Fatalf("claims the definition accepted were refused by the encoder: %v", err)
		}
		got, err := mdoc.Verify(issued.IssuerSigned, mdoc.VerifyOptions{Roots: roots, Now: now, DocType: spec.DocType})
		if err != nil {
			t.Fatalf("an issued mdoc does not verify: %v", err)
		}
		for ns, elements := range nameSpaces {
			if len(got.NameSpaces[ns]) != len(elements) {
				t.Fatalf("namespace %q: %d elements issued, %d given", ns, len(got.NameSpaces[ns]), len(elements))
			}
		}
	})
}
