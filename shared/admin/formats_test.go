package admin_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/memstore"
)

// TestIssueChecksMdocAndJWTVCClaims: an mdoc exchange's claims are namespaces of data elements an mdoc can
// carry, typed as the definition says, with every mandatory element; a JWT VC exchange's subject has no id. A
// misfit is refused at issue (InTime) and at completion (Deferred), naming the claim, never its value.
func TestIssueChecksMdocAndJWTVCClaims(t *testing.T) {
	mdl := definition.Spec{Label: "mDL", CredentialFormat: "mso_mdoc", DocType: "org.iso.18013.5.1.mDL", ExpirationInDays: 30,
		Claims: []definition.Claim{
			{Path: []any{"org.iso.18013.5.1", "given_name"}, Mandatory: true},
			{Path: []any{"org.iso.18013.5.1", "birth_date"}, ValueType: "full-date"},
			{Path: []any{"org.iso.18013.5.1", "portrait"}, ValueType: "bytes"},
		}}
	emp := definition.Spec{Label: "Employee", CredentialFormat: "jwt_vc_json", Type: []string{"VerifiableCredential", "EmployeeID"},
		ExpirationInDays: 30, Claims: []definition.Claim{{Path: []any{"given_name"}, Mandatory: true}}}
	ns := func(elements map[string]any) map[string]any { return map[string]any{"org.iso.18013.5.1": elements} }
	tests := []struct {
		name    string
		spec    definition.Spec
		subject map[string]any
		field   string
	}{
		{"mdoc fits", mdl, ns(map[string]any{"given_name": "Erika", "birth_date": "1964-08-12", "portrait": "_9j_4A"}), ""},
		{"mdoc extra namespace", mdl, map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika"},
			"org.iso.18013.5.1.aamva": map[string]any{"organ_donor": 1}}, ""},
		{"mdoc mandatory missing", mdl, ns(map[string]any{"birth_date": "1964-08-12"}), "credential.credentialSubject.org.iso.18013.5.1.given_name"},
		{"mdoc flat subject", mdl, map[string]any{"given_name": "Erika"}, "credential.credentialSubject.given_name"},
		{"mdoc bad full-date", mdl, ns(map[string]any{"given_name": "Erika", "birth_date": "12.08.1964"}),
			"credential.credentialSubject.org.iso.18013.5.1.birth_date"},
		{"mdoc bad bytes", mdl, ns(map[string]any{"given_name": "Erika", "portrait": "%%%"}),
			"credential.credentialSubject.org.iso.18013.5.1.portrait"},
		{"jwt vc fits", emp, map[string]any{"given_name": "Erika", "team": "B"}, ""},
		{"jwt vc with id", emp, map[string]any{"given_name": "Erika", "id": "did:example:erika"}, "credential.credentialSubject.id"},
		{"jwt vc mandatory missing", emp, map[string]any{"team": "B"}, "credential.credentialSubject.given_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"InTime", "Deferred"} {
				e := newEnv(t)
				def, err := e.svc.DefineCredential(context.Background(), tt.spec)
				if err != nil {
					t.Fatal(err)
				}
				rec, err := issueOrComplete(t, e.svc, def.ID, mode, tt.subject)
				checkFitResult(t, mode, err, tt.field)
				if tt.field == "" && mode == "InTime" {
					if rec.CredentialFormat != tt.spec.CredentialFormat || !slices.Equal(rec.CredentialType, def.Types()) {
						t.Errorf("record format %q type %v", rec.CredentialFormat, rec.CredentialType)
					}
				}
			}
		})
	}
}

// TestIssueTypeMustMatchTheDefinition: credential.type of an issue request names the definition's type (its
// doctype, or the last of its types), or is refused naming the member to match.
func TestIssueTypeMustMatchTheDefinition(t *testing.T) {
	e := newEnv(t)
	def, err := e.svc.DefineCredential(context.Background(), definition.Spec{Label: "mDL", CredentialFormat: "mso_mdoc",
		DocType: "org.iso.18013.5.1.mDL", ExpirationInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	subject := map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika"}}
	for typ, field := range map[string]string{"org.iso.18013.5.1.mDL": "", "PortableDocumentA1": "credential.type"} {
		_, err := e.svc.IssueCredential(context.Background(), admin.IssueRequest{IssuanceMode: "InTime",
			CredentialDefinitionID: def.ID, Credential: &admin.CredentialInput{Type: typ, CredentialSubject: subject}})
		checkFitResult(t, "InTime", err, field)
	}
}

// TestIssuingCountryMatchesTheDocumentSigner: ISO/IEC 18013-5 requires an mDL's issuing_country to equal the
// countryName of its document signer certificate, and mdoc verifiers check it (@animo-id/mdoc: "The
// 'issuing_country' if present must match the 'countryName' ..."). With a configured chain (its leaf's country in
// Config.DocumentSignerCountry) an mDL of another country is refused at issue and at completion, naming the data
// element and the certificate's country, where before it was signed and refused by every verifier. Without a chain
// (the self-signed certificate, country ZZ) and outside the mDL namespace nothing is compared.
func TestIssuingCountryMatchesTheDocumentSigner(t *testing.T) {
	mdl := definition.Spec{Label: "mDL", CredentialFormat: "mso_mdoc", DocType: "org.iso.18013.5.1.mDL", ExpirationInDays: 30,
		Claims: []definition.Claim{{Path: []any{"org.iso.18013.5.1", "given_name"}, Mandatory: true}}}
	const field = "credential.credentialSubject.org.iso.18013.5.1.issuing_country"
	for _, tt := range []struct {
		name, country string
		subject       map[string]any
		field         string
	}{
		{"same country", "UT", map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika", "issuing_country": "UT"}}, ""},
		{"another country", "UT", map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika", "issuing_country": "DE"}}, field},
		{"not a string", "UT", map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika", "issuing_country": 276}}, field},
		{"no issuing_country", "UT", map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika"}}, ""},
		{"self-signed", "", map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika", "issuing_country": "DE"}}, ""},
		{"another namespace", "UT", map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika"},
			"eu.europa.ec.eudi.pid.1": map[string]any{"issuing_country": "DE"}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"InTime", "Deferred"} {
				st := memstore.New()
				svc, err := admin.New(admin.Config{IssuerURL: "https://issuer.example", DocumentSignerCountry: tt.country},
					deps(st, &fakeDoer{status: 200}))
				if err != nil {
					t.Fatal(err)
				}
				def, err := svc.DefineCredential(context.Background(), mdl)
				if err != nil {
					t.Fatal(err)
				}
				_, err = issueOrComplete(t, svc, def.ID, mode, tt.subject)
				checkFitResult(t, mode, err, tt.field)
				if tt.field != "" && !strings.Contains(err.Error(), `"UT"`) {
					t.Errorf("%s: error %q does not name the certificate's country", mode, err)
				}
			}
		})
	}
}

// issueOrComplete issues an exchange of definition defID with subject (InTime), or issues it Deferred and completes
// it with subject; the error is the issue's or the completion's.
func issueOrComplete(t *testing.T, svc *admin.Service, defID, mode string, subject map[string]any) (exchange.Record, error) {
	t.Helper()
	req := admin.IssueRequest{IssuanceMode: mode, CredentialDefinitionID: defID,
		Credential: &admin.CredentialInput{CredentialSubject: subject}}
	if mode != "Deferred" {
		return svc.IssueCredential(context.Background(), req)
	}
	req.Credential = nil
	rec, err := svc.IssueCredential(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.CompleteDeferred(context.Background(), rec.CredentialExchangeID, &admin.CredentialInput{CredentialSubject: subject}, nil)
	return rec, err
}
