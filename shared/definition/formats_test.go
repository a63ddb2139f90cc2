package definition_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/mdoc"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

func mdlSpec() definition.Spec {
	return definition.Spec{Label: "Mobile driving licence", CredentialFormat: "mso_mdoc", DocType: "org.iso.18013.5.1.mDL",
		ExpirationInDays: 365, SupportRevocation: true,
		Claims: []definition.Claim{
			{Path: []any{"org.iso.18013.5.1", "given_name"}, Mandatory: true, Display: []definition.Display{{Name: "Given name", Locale: "en"}}},
			{Path: []any{"org.iso.18013.5.1", "birth_date"}, ValueType: "full-date"},
			{Path: []any{"org.iso.18013.5.1", "portrait"}, ValueType: "bytes"},
			{Path: []any{"org.iso.18013.5.1.aamva", "organ_donor"}},
		},
		Display: []definition.Display{{Name: "mDL", Locale: "en"}}}
}

func jwtVCSpec() definition.Spec {
	return definition.Spec{Label: "Employee ID", CredentialFormat: "jwt_vc_json",
		Type: []string{"VerifiableCredential", "EmployeeID"}, ExpirationInDays: 30,
		Claims: []definition.Claim{{Path: []any{"given_name"}, Mandatory: true}, {Path: []any{"address", "locality"}}}}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var v *validation.Error
	if field == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	if !errors.As(err, &v) || v.Field != field {
		t.Fatalf("err = %v, want a validation error on %s", err, field)
	}
}

func TestMdocSpecNormalize(t *testing.T) {
	for name, tt := range map[string]struct {
		change func(*definition.Spec)
		field  string
	}{
		"valid":              {func(*definition.Spec) {}, ""},
		"pid doctype":        {func(s *definition.Spec) { s.DocType = "eu.europa.ec.eudi.pid.1" }, ""},
		"no claims":          {func(s *definition.Spec) { s.Claims = nil }, ""},
		"no doctype":         {func(s *definition.Spec) { s.DocType = "" }, "doctype"},
		"doctype with space": {func(s *definition.Spec) { s.DocType = "org iso" }, "doctype"},
		"long doctype":       {func(s *definition.Spec) { s.DocType = strings.Repeat("d", 257) }, "doctype"},
		"vct too":            {func(s *definition.Spec) { s.VCT = "mDL" }, "vct"},
		"type too":           {func(s *definition.Spec) { s.Type = []string{"VerifiableCredential"} }, "type"},
		"one element path":   {func(s *definition.Spec) { s.Claims[0].Path = []any{"given_name"} }, "claims[0].path"},
		"three elements":     {func(s *definition.Spec) { s.Claims[0].Path = []any{"ns", "a", "b"} }, "claims[0].path"},
		"null element":       {func(s *definition.Spec) { s.Claims[1].Path = []any{"ns", nil} }, "claims[1].path[1]"},
		"index element":      {func(s *definition.Spec) { s.Claims[1].Path = []any{"ns", 0.0} }, "claims[1].path[1]"},
		"empty namespace":    {func(s *definition.Spec) { s.Claims[1].Path = []any{"", "x"} }, "claims[1].path[0]"},
		"control":            {func(s *definition.Spec) { s.Claims[1].Path = []any{"ns", "a\nb"} }, "claims[1].path[1]"},
		"duplicate":          {func(s *definition.Spec) { s.Claims[1].Path = s.Claims[0].Path }, "claims[1].path"},
		"unknown valueType":  {func(s *definition.Spec) { s.Claims[1].ValueType = "date" }, "claims[1].valueType"},
		"claim display":      {func(s *definition.Spec) { s.Claims[0].Display[0].Name = "" }, "claims[0].display[0].name"},
		"no expiry":          {func(s *definition.Spec) { s.ExpirationInDays = 0 }, "expirationInDays"},
	} {
		t.Run(name, func(t *testing.T) {
			s := mdlSpec()
			tt.change(&s)
			wantField(t, s.Normalize(), tt.field)
		})
	}
	s := mdlSpec()
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	if s.TypeName() != "org.iso.18013.5.1.mDL" || !reflect.DeepEqual(s.Types(), []string{"org.iso.18013.5.1.mDL"}) {
		t.Errorf("type name %q types %v", s.TypeName(), s.Types())
	}
}

func TestJWTVCSpecNormalize(t *testing.T) {
	for name, tt := range map[string]struct {
		change func(*definition.Spec)
		field  string
	}{
		"valid":            {func(*definition.Spec) {}, ""},
		"no type":          {func(s *definition.Spec) { s.Type = nil }, "type"},
		"no vc type":       {func(s *definition.Spec) { s.Type = []string{"EmployeeID"} }, "type"},
		"empty type":       {func(s *definition.Spec) { s.Type = []string{"VerifiableCredential", ""} }, "type[1]"},
		"repeated type":    {func(s *definition.Spec) { s.Type = []string{"VerifiableCredential", "VerifiableCredential"} }, "type[1]"},
		"space in type":    {func(s *definition.Spec) { s.Type = []string{"VerifiableCredential", "Employee ID"} }, "type[1]"},
		"vct too":          {func(s *definition.Spec) { s.VCT = "EmployeeID" }, "vct"},
		"doctype too":      {func(s *definition.Spec) { s.DocType = "x" }, "doctype"},
		"limitDisclosure":  {func(s *definition.Spec) { s.Claims[0].LimitDisclosure = true }, "claims[0].limitDisclosure"},
		"subject id":       {func(s *definition.Spec) { s.Claims[0].Path = []any{"id"} }, "claims[0].path[0]"},
		"valueType":        {func(s *definition.Spec) { s.Claims[0].ValueType = "bytes" }, "claims[0].valueType"},
		"bad path element": {func(s *definition.Spec) { s.Claims[1].Path = []any{"address", true} }, "claims[1].path[1]"},
	} {
		t.Run(name, func(t *testing.T) {
			s := jwtVCSpec()
			tt.change(&s)
			wantField(t, s.Normalize(), tt.field)
		})
	}
	s := jwtVCSpec()
	if s.TypeName() != "EmployeeID" || !reflect.DeepEqual(s.Types(), []string{"VerifiableCredential", "EmployeeID"}) {
		t.Errorf("type name %q types %v", s.TypeName(), s.Types())
	}
}

func TestMdocNameSpaces(t *testing.T) {
	s := mdlSpec()
	subject := map[string]any{
		"org.iso.18013.5.1":       map[string]any{"given_name": "Erika", "birth_date": "1964-08-12", "portrait": "_9j_4A"},
		"org.iso.18013.5.1.aamva": map[string]any{"organ_donor": 1.0},
	}
	got, err := s.MdocNameSpaces(subject)
	if err != nil {
		t.Fatal(err)
	}
	mdl := got["org.iso.18013.5.1"]
	if mdl["birth_date"] != mdoc.FullDate("1964-08-12") || !reflect.DeepEqual(mdl["portrait"], []byte{0xff, 0xd8, 0xff, 0xe0}) || mdl["given_name"] != "Erika" {
		t.Errorf("typed values = %#v", mdl)
	}
	for name, tt := range map[string]struct {
		subject map[string]any
		field   string
	}{
		"namespace not an object": {map[string]any{"org.iso.18013.5.1": "Erika"}, "org.iso.18013.5.1"},
		"empty namespace":         {map[string]any{"org.iso.18013.5.1": map[string]any{}}, "org.iso.18013.5.1"},
		"bad full-date":           {map[string]any{"org.iso.18013.5.1": map[string]any{"birth_date": "12.08.1964"}}, "org.iso.18013.5.1.birth_date"},
		"full-date not a string":  {map[string]any{"org.iso.18013.5.1": map[string]any{"birth_date": 1964.0}}, "org.iso.18013.5.1.birth_date"},
		"bad bytes":               {map[string]any{"org.iso.18013.5.1": map[string]any{"portrait": "not base64!"}}, "org.iso.18013.5.1.portrait"},
		"empty element name":      {map[string]any{"ns": map[string]any{"": "x"}}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.MdocNameSpaces(tt.subject)
			var v *validation.Error
			if !errors.As(err, &v) || v.Field != tt.field {
				t.Fatalf("err = %v, want a validation error on %q", err, tt.field)
			}
		})
	}
}

func TestDisclosureMappingByFormat(t *testing.T) {
	m := mdlSpec()
	got := m.DisclosureMapping(map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika", "family_name": "M"}})
	mdl := got["org.iso.18013.5.1"].(map[string]any)
	if mdl["limitedDisclosure"] != false || mdl["given_name"].(map[string]any)["limitedDisclosure"] != true ||
		mdl["family_name"].(map[string]any)["limitedDisclosure"] != true || mdl["birth_date"].(map[string]any)["limitedDisclosure"] != true {
		t.Errorf("mdoc mapping = %v", got)
	}
	if _, ok := got["org.iso.18013.5.1.aamva"]; !ok {
		t.Errorf("mdoc mapping lacks the definition's namespace: %v", got)
	}
	j := jwtVCSpec()
	got = j.DisclosureMapping(map[string]any{"given_name": "Erika", "address": map[string]any{"locality": "Berlin"}})
	if got["given_name"].(map[string]any)["limitedDisclosure"] != false ||
		got["address"].(map[string]any)["locality"].(map[string]any)["limitedDisclosure"] != false {
		t.Errorf("jwt vc mapping = %v", got)
	}
}
