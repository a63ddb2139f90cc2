package dcql

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/validation"
)

const pidQuery = `{"credentials": [{"id": "pid", "format": "dc+sd-jwt",
  "meta": {"vct_values": ["https://issuer.example/vct/pid"]},
  "claims": [{"path": ["given_name"]}, {"path": ["address", "country"], "values": ["DE", "AT"]},
             {"path": ["age_over_18"], "values": [true]}]}]}`

func TestParseValidates(t *testing.T) {
	cases := []struct {
		name, query, field string
	}{
		{"not an object", `[1]`, "dcqlQuery"},
		{"repeated member", `{"credentials": [], "credentials": []}`, "dcqlQuery.credentials"},
		{"no credentials", `{}`, "dcqlQuery.credentials"},
		{"empty credentials", `{"credentials": []}`, "dcqlQuery.credentials"},
		{"bad id", `{"credentials": [{"id": "a b", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]}`, "dcqlQuery.credentials[0].id"},
		{"repeated id", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}, {"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]}`, "dcqlQuery.credentials[1].id"},
		{"mdoc format", `{"credentials": [{"id": "a", "format": "mso_mdoc", "meta": {"doctype_value": "x"}}]}`, "dcqlQuery.credentials[0].format"},
		{"no meta", `{"credentials": [{"id": "a", "format": "dc+sd-jwt"}]}`, "dcqlQuery.credentials[0].meta"},
		{"no vct_values", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}]}`, "dcqlQuery.credentials[0].meta.vct_values"},
		{"no key binding", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}, "require_cryptographic_holder_binding": false}]}`, "dcqlQuery.credentials[0].require_cryptographic_holder_binding"},
		{"empty path", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}, "claims": [{"path": []}]}]}`, "dcqlQuery.credentials[0].claims[0].path"},
		{"negative index", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}, "claims": [{"path": ["a", -1]}]}]}`, "dcqlQuery.credentials[0].claims[0].path[1]"},
		{"object in path", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}, "claims": [{"path": [{}]}]}]}`, "dcqlQuery.credentials[0].claims[0].path[0]"},
		{"object value", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}, "claims": [{"path": ["a"], "values": [{}]}]}]}`, "dcqlQuery.credentials[0].claims[0].values[0]"},
		{"fraction value", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}, "claims": [{"path": ["a"], "values": [1.5]}]}]}`, "dcqlQuery.credentials[0].claims[0].values[0]"},
		{"claim_sets without claim ids", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}, "claims": [{"path": ["a"]}], "claim_sets": [["x"]]}]}`, "dcqlQuery.credentials[0].claims[0].id"},
		{"claim_sets naming nothing", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}, "claims": [{"id": "n", "path": ["a"]}], "claim_sets": [["m"]]}]}`, "dcqlQuery.credentials[0].claim_sets[0][0]"},
		{"credential_sets naming nothing", `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}], "credential_sets": [{"options": [["b"]]}]}`, "dcqlQuery.credential_sets[0].options[0][0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.query), "dcqlQuery")
			var v *validation.Error
			if !errors.As(err, &v) {
				t.Fatalf("err = %v, want a *validation.Error", err)
			}
			if v.Field != c.field {
				t.Fatalf("field = %q (%v), want %q", v.Field, err, c.field)
			}
		})
	}
	if _, err := Parse([]byte(pidQuery), "dcqlQuery"); err != nil {
		t.Fatalf("valid query refused: %v", err)
	}
	unknown := `{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"], "later": 1}, "later": {}}], "later": []}`
	if _, err := Parse([]byte(unknown), "dcqlQuery"); err != nil {
		t.Fatalf("unknown members must be ignored (section 6): %v", err)
	}
}

func claims(t *testing.T, doc string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEvaluate(t *testing.T) {
	q, err := Parse([]byte(pidQuery), "dcqlQuery")
	if err != nil {
		t.Fatal(err)
	}
	good := Presented{Typ: "dc+sd-jwt", VCT: "https://issuer.example/vct/pid",
		Claims: claims(t, `{"given_name": "Erika", "address": {"country": "AT"}, "age_over_18": true}`)}
	with := func(change func(p *Presented)) map[string][]Presented {
		p := good
		p.Claims = claims(t, `{"given_name": "Erika", "address": {"country": "AT"}, "age_over_18": true}`)
		change(&p)
		return map[string][]Presented{"pid": {p}}
	}
	cases := []struct {
		name      string
		presented map[string][]Presented
		reason    string
	}{
		{"all there", with(func(*Presented) {}), ""},
		{"legacy typ", with(func(p *Presented) { p.Typ = "vc+sd-jwt" }), ""},
		{"nothing", map[string][]Presented{}, "no presentation"},
		{"other id", map[string][]Presented{"pid": {good}, "other": {good}}, "does not have"},
		{"two without multiple", map[string][]Presented{"pid": {good, good}}, "multiple is false"},
		{"empty entry", map[string][]Presented{"pid": {}}, "holds no presentation"},
		{"wrong typ", with(func(p *Presented) { p.Typ = "jwt" }), "not of format"},
		{"wrong vct", with(func(p *Presented) { p.VCT = "https://issuer.example/vct/other" }), "vct_values"},
		{"claim missing", with(func(p *Presented) { delete(p.Claims, "given_name") }), `["given_name"] is not disclosed`},
		{"nested claim missing", with(func(p *Presented) { p.Claims["address"] = map[string]any{} }), "is not disclosed"},
		{"wrong kind on the path", with(func(p *Presented) { p.Claims["address"] = "AT" }), "is not disclosed"},
		{"value not expected", with(func(p *Presented) { p.Claims["address"] = map[string]any{"country": "FR"} }), "expected values"},
		{"boolean as string", with(func(p *Presented) { p.Claims["age_over_18"] = "true" }), "expected values"},
		{"boolean false", with(func(p *Presented) { p.Claims["age_over_18"] = false }), "expected values"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := q.Evaluate(c.presented)
			if c.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrNotSatisfied) || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("err = %v, want ErrNotSatisfied with %q", err, c.reason)
			}
			if strings.Contains(err.Error(), "Erika") || strings.Contains(err.Error(), "FR") {
				t.Fatalf("the reason quotes a presented value: %v", err)
			}
		})
	}
}

func TestEvaluateSets(t *testing.T) {
	q, err := Parse([]byte(`{"credentials": [
	  {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["pid"]},
	   "claims": [{"id": "a", "path": ["age_over_18"]}, {"id": "b", "path": ["birthdate"]}], "claim_sets": [["a"], ["b"]]},
	  {"id": "lpid", "format": "dc+sd-jwt", "meta": {"vct_values": ["lpid"]}, "multiple": true},
	  {"id": "extra", "format": "dc+sd-jwt", "meta": {"vct_values": ["extra"]}}],
	 "credential_sets": [{"options": [["pid"], ["lpid"]]}, {"options": [["extra"]], "required": false}]}`), "dcqlQuery")
	if err != nil {
		t.Fatal(err)
	}
	pid := func(doc string) Presented { return Presented{Typ: "dc+sd-jwt", VCT: "pid", Claims: claims(t, doc)} }
	lpid := Presented{Typ: "dc+sd-jwt", VCT: "lpid", Claims: map[string]any{}}
	for _, c := range []struct {
		name string
		p    map[string][]Presented
		ok   bool
	}{
		{"first claim set", map[string][]Presented{"pid": {pid(`{"age_over_18": true}`)}}, true},
		{"second claim set", map[string][]Presented{"pid": {pid(`{"birthdate": "1964-08-12"}`)}}, true},
		{"no claim set", map[string][]Presented{"pid": {pid(`{"name": "x"}`)}}, false},
		{"other option, multiple", map[string][]Presented{"lpid": {lpid, lpid}}, true},
		{"optional set only", map[string][]Presented{"extra": {{Typ: "dc+sd-jwt", VCT: "extra"}}}, false},
		{"nothing", map[string][]Presented{}, false},
	} {
		if err := q.Evaluate(c.p); (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

func TestSelect(t *testing.T) {
	doc := claims(t, `{"name": "Arthur Dent", "address": {"street_address": "42 Market Street"},
	  "degrees": [{"type": "BSc"}, {"type": "MSc"}], "nationalities": ["British", "Betelgeusian"]}`)
	for _, c := range []struct {
		path []any
		want string
	}{
		{[]any{"name"}, `["Arthur Dent"]`},
		{[]any{"address", "street_address"}, `["42 Market Street"]`},
		{[]any{"degrees", nil, "type"}, `["BSc","MSc"]`},
		{[]any{"nationalities", float64(1)}, `["Betelgeusian"]`},
		{[]any{"nationalities", float64(2)}, ``},
		{[]any{"name", "x"}, ``},
		{[]any{"address", nil}, ``},
		{[]any{"missing"}, ``},
	} {
		got, err := Select(doc, c.path)
		if c.want == "" {
			if !errors.Is(err, ErrPath) {
				t.Errorf("%v: got %v, %v; want ErrPath", c.path, got, err)
			}
			continue
		}
		b, _ := json.Marshal(got)
		if err != nil || string(b) != c.want {
			t.Errorf("%v: got %s, %v; want %s", c.path, b, err, c.want)
		}
	}
}
