package oid4vci

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

func pdaInput() ConfigInput {
	return ConfigInput{
		ID:      "pda1",
		VCT:     "PortableDocumentA1",
		Display: []CredentialDisplay{{Name: "Portable Document A1", Locale: "en-GB"}},
		Claims: []ClaimDescription{
			{Path: ClaimPath{"given_name"}, Mandatory: true, Display: []ClaimDisplay{{Name: "Given name", Locale: "en-GB"}}},
			{Path: ClaimPath{"address"}},
			{Path: ClaimPath{"address", "street_address"}},
			{Path: ClaimPath{"nationalities", nil}},
		},
	}
}

func TestBuildMetadataDocument(t *testing.T) {
	md, err := BuildMetadata(testIssuer, DefaultEndpoints(testIssuer), []ConfigInput{pdaInput()},
		WithBatchSize(5), WithIssuerDisplay([]IssuerDisplay{{Name: "Example Issuer", Locale: "en"}}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	configs := doc["credential_configurations_supported"].(map[string]any)
	current := configs["pda1"].(map[string]any)
	legacy := configs["pda1"+LegacyConfigurationSuffix].(map[string]any)

	tests := []struct {
		name string
		got  any
		want string
	}{
		{"credential_issuer", doc["credential_issuer"], `"https://issuer.example.com"`},
		{"credential_endpoint", doc["credential_endpoint"], `"https://issuer.example.com/credential"`},
		{"nonce_endpoint", doc["nonce_endpoint"], `"https://issuer.example.com/nonce"`},
		{"deferred_credential_endpoint", doc["deferred_credential_endpoint"], `"https://issuer.example.com/deferred-credential"`},
		{"notification_endpoint", doc["notification_endpoint"], `"https://issuer.example.com/notification"`},
		{"batch", doc["batch_credential_issuance"], `{"batch_size":5}`},
		{"issuer display", doc["display"], `[{"locale":"en","name":"Example Issuer"}]`},
		{"no authorization_servers", doc["authorization_servers"], `null`},
		{"format", current["format"], `"dc+sd-jwt"`},
		{"vct", current["vct"], `"PortableDocumentA1"`},
		{"scope defaults to id", current["scope"], `"pda1"`},
		{"binding", current["cryptographic_binding_methods_supported"], `["jwk"]`},
		{"signing algs", current["credential_signing_alg_values_supported"], `["ES256"]`},
		{"proof types", current["proof_types_supported"], `{"jwt":{"proof_signing_alg_values_supported":["ES256"]}}`},
		{"credential_metadata", current["credential_metadata"], `{"claims":[{"display":[{"locale":"en-GB","name":"Given name"}],"mandatory":true,"path":["given_name"]},{"path":["address"]},{"path":["address","street_address"]},{"path":["nationalities",null]}],"display":[{"locale":"en-GB","name":"Portable Document A1"}]}`},
		{"draft display", current["display"], `[{"locale":"en-GB","name":"Portable Document A1"}]`},
		{"draft 15 claims array", current["claims"], `[{"display":[{"locale":"en-GB","name":"Given name"}],"mandatory":true,"path":["given_name"]},{"path":["address"]},{"path":["address","street_address"]},{"path":["nationalities",null]}]`},
		{"twin format", legacy["format"], `"vc+sd-jwt"`},
		{"twin vct", legacy["vct"], `"PortableDocumentA1"`},
		{"twin scope", legacy["scope"], `"pda1"`},
		{"twin draft 13 claims", legacy["claims"], `{"address":{"street_address":{}},"given_name":{"display":[{"locale":"en-GB","name":"Given name"}],"mandatory":true},"nationalities":{}}`},
		{"twin order", legacy["order"], `["given_name","address","nationalities"]`},
		{"twin display", legacy["display"], `[{"locale":"en-GB","name":"Portable Document A1"}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.got)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if len(configs) != 2 {
		t.Fatalf("want 2 configurations, got %d", len(configs))
	}
}

func TestBuildMetadataErrors(t *testing.T) {
	good := pdaInput()
	mod := func(f func(c *ConfigInput)) []ConfigInput {
		c := pdaInput()
		f(&c)
		return []ConfigInput{c}
	}
	tests := []struct {
		name      string
		issuer    string
		endpoints Endpoints
		configs   []ConfigInput
		opts      []MetadataOption
		wantErr   string
	}{
		{name: "valid", issuer: testIssuer, configs: []ConfigInput{good}},
		{name: "http for local development", issuer: "http://127.0.0.1:3000", configs: []ConfigInput{good}},
		{name: "no configurations", issuer: testIssuer},
		{name: "issuer with query", issuer: testIssuer + "?a=1", configs: []ConfigInput{good}, wantErr: "no query"},
		{name: "issuer relative", issuer: "/issuer", configs: []ConfigInput{good}, wantErr: "https"},
		{name: "no credential endpoint", issuer: testIssuer, endpoints: Endpoints{Token: "x"}, configs: []ConfigInput{good}, wantErr: "credential endpoint"},
		{name: "missing id", issuer: testIssuer, configs: mod(func(c *ConfigInput) { c.ID = "" }), wantErr: "id is required"},
		{name: "missing vct", issuer: testIssuer, configs: mod(func(c *ConfigInput) { c.VCT = "" }), wantErr: "vct is required"},
		{name: "display without name", issuer: testIssuer, configs: mod(func(c *ConfigInput) { c.Display = []CredentialDisplay{{Locale: "en"}} }), wantErr: "name is required"},
		{name: "alg none", issuer: testIssuer, configs: mod(func(c *ConfigInput) { c.ProofSigningAlgs = []string{"none"} }), wantErr: "not an asymmetric"},
		{name: "alg HS256", issuer: testIssuer, configs: mod(func(c *ConfigInput) { c.SigningAlgs = []string{"HS256"} }), wantErr: "not an asymmetric"},
		{name: "duplicate claim", issuer: testIssuer, configs: mod(func(c *ConfigInput) { c.Claims = append(c.Claims, ClaimDescription{Path: ClaimPath{"given_name"}}) }), wantErr: "same path"},
		{name: "duplicate ids", issuer: testIssuer, configs: []ConfigInput{good, good}, wantErr: "used twice"},
		{name: "twin id collides", issuer: testIssuer, configs: []ConfigInput{good, func() ConfigInput { c := pdaInput(); c.ID = "pda1" + LegacyConfigurationSuffix; return c }()}, wantErr: "used twice"},
		{name: "negative batch", issuer: testIssuer, configs: []ConfigInput{good}, opts: []MetadataOption{WithBatchSize(-1)}, wantErr: "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := tc.endpoints
			if ep == (Endpoints{}) {
				ep = DefaultEndpoints(tc.issuer)
			}
			md, err := BuildMetadata(tc.issuer, ep, tc.configs, tc.opts...)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if md.CredentialIssuer != tc.issuer {
					t.Fatalf("credential_issuer %q differs from %q", md.CredentialIssuer, tc.issuer)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestBatchSizeOneAdvertisesNoBatch(t *testing.T) {
	md, err := BuildMetadata(testIssuer, DefaultEndpoints(testIssuer), []ConfigInput{pdaInput()}, WithBatchSize(1))
	if err != nil {
		t.Fatal(err)
	}
	if md.BatchCredentialIssuance != nil {
		t.Fatalf("batch_size 1 is not allowed by 1.0 and must not be advertised")
	}
}

func TestValidateClaims(t *testing.T) {
	tests := []struct {
		name    string
		paths   [][]any
		wantErr string
	}{
		{name: "object and nested", paths: [][]any{{"address"}, {"address", "street_address"}}},
		{name: "array of objects", paths: [][]any{{"degrees", nil, "type"}, {"degrees", nil, "university"}}},
		{name: "index from JSON float", paths: [][]any{{"nationalities", float64(1)}}},
		{name: "index from json.Number", paths: [][]any{{"nationalities", json.Number("0")}}},
		{name: "empty path", paths: [][]any{{}}, wantErr: "non-empty"},
		{name: "empty name", paths: [][]any{{""}}, wantErr: "empty claim name"},
		{name: "negative index", paths: [][]any{{"a", -1}}, wantErr: "negative"},
		{name: "fractional index", paths: [][]any{{"a", 1.5}}, wantErr: "non-negative integer"},
		{name: "bool element", paths: [][]any{{"a", true}}, wantErr: "non-negative integer"},
		{name: "duplicate", paths: [][]any{{"a", "b"}, {"a", "b"}}, wantErr: "same path"},
		{name: "null and index", paths: [][]any{{"a", nil}, {"a", 0}}, wantErr: "null (all elements) and with a specific index"},
		{name: "object and array", paths: [][]any{{"a", "b"}, {"a", nil}}, wantErr: "object (by name) and as an array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var claims []ClaimDescription
			for _, p := range tc.paths {
				claims = append(claims, ClaimDescription{Path: ClaimPath(p)})
			}
			out, err := ValidateClaims(claims)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range out {
					for _, el := range c.Path {
						switch el.(type) {
						case string, nil, int:
						default:
							t.Fatalf("path element %T not normalized", el)
						}
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestDraft13Claims(t *testing.T) {
	tests := []struct {
		name      string
		claims    []ClaimDescription
		want      string
		wantOrder []string
	}{
		{name: "nested", claims: []ClaimDescription{{Path: ClaimPath{"address", "locality"}, Mandatory: true}},
			want: `{"address":{"locality":{"mandatory":true}}}`, wantOrder: []string{"address"}},
		{name: "array elements", claims: []ClaimDescription{{Path: ClaimPath{"degrees", nil, "type"}}},
			want: `{"degrees":{"type":{}}}`, wantOrder: []string{"degrees"}},
		{name: "array before its elements wins", claims: []ClaimDescription{
			{Path: ClaimPath{"nationalities"}, Display: []ClaimDisplay{{Name: "Nationalities"}}},
			{Path: ClaimPath{"nationalities", nil}, Display: []ClaimDisplay{{Name: "Nationality"}}}},
			want: `{"nationalities":{"display":[{"name":"Nationalities"}]}}`, wantOrder: []string{"nationalities"}},
		{name: "reserved name left out", claims: []ClaimDescription{{Path: ClaimPath{"display"}}, {Path: ClaimPath{"name"}}},
			want: `{"name":{}}`, wantOrder: []string{"name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, order := draft13Claims(tc.claims)
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want || !reflect.DeepEqual(order, tc.wantOrder) {
				t.Fatalf("got %s %v, want %s %v", b, order, tc.want, tc.wantOrder)
			}
		})
	}
}

func TestWellKnownURL(t *testing.T) {
	tests := []struct {
		issuer, name, want string
	}{
		{"https://issuer.example.com", WellKnownCredentialIssuer, "https://issuer.example.com/.well-known/openid-credential-issuer"},
		{"https://issuer.example.com/", WellKnownCredentialIssuer, "https://issuer.example.com/.well-known/openid-credential-issuer"},
		{"https://issuer.example.com/tenant", WellKnownCredentialIssuer, "https://issuer.example.com/.well-known/openid-credential-issuer/tenant"},
		{"http://127.0.0.1:3000/t/a", WellKnownAuthorizationServer, "http://127.0.0.1:3000/.well-known/oauth-authorization-server/t/a"},
		{"https://issuer.example.com/tenant", WellKnownJWTVCIssuer, "https://issuer.example.com/.well-known/jwt-vc-issuer/tenant"},
	}
	for _, tc := range tests {
		t.Run(tc.issuer+" "+tc.name, func(t *testing.T) {
			got, err := WellKnownURL(tc.issuer, tc.name)
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := WellKnownURL("issuer", WellKnownCredentialIssuer); err == nil {
		t.Fatal("a relative issuer must be refused")
	}
}

func TestBuildAuthorizationServerMetadata(t *testing.T) {
	md, err := BuildAuthorizationServerMetadata(testIssuer, DefaultEndpoints(testIssuer))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"issuer":"https://issuer.example.com","authorization_endpoint":"https://issuer.example.com/authorize",` +
		`"token_endpoint":"https://issuer.example.com/token",` +
		`"pushed_authorization_request_endpoint":"https://issuer.example.com/par","require_pushed_authorization_requests":true,` +
		`"grant_types_supported":["authorization_code","urn:ietf:params:oauth:grant-type:pre-authorized_code"],` +
		`"pre-authorized_grant_anonymous_access_supported":true,"response_types_supported":["code"],` +
		`"response_modes_supported":["query"],"code_challenge_methods_supported":["S256"],` +
		`"authorization_response_iss_parameter_supported":true,"authorization_details_types_supported":["openid_credential"],` +
		`"token_endpoint_auth_methods_supported":["none"]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	// Without an authorization endpoint only the pre-authorized code grant is announced, and no response type.
	pre, err := BuildAuthorizationServerMetadata(testIssuer, Endpoints{Token: testIssuer + "/token"})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(pre); string(b) != `{"issuer":"https://issuer.example.com","token_endpoint":"https://issuer.example.com/token",`+
		`"grant_types_supported":["urn:ietf:params:oauth:grant-type:pre-authorized_code"],`+
		`"pre-authorized_grant_anonymous_access_supported":true,"response_types_supported":[],`+
		`"token_endpoint_auth_methods_supported":["none"]}` {
		t.Fatalf("pre-authorized only: %s", b)
	}
	if _, err := BuildAuthorizationServerMetadata(testIssuer, Endpoints{}); err == nil {
		t.Fatal("a missing token endpoint must be refused")
	}
}

func TestBuildJWTVCIssuerMetadata(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	withKID := func(raw any, kid string) jwk.Key {
		k, err := jwk.FromRaw(raw)
		if err != nil {
			t.Fatal(err)
		}
		if kid != "" {
			if err := k.Set(jwk.KeyIDKey, kid); err != nil {
				t.Fatal(err)
			}
		}
		return k
	}
	tests := []struct {
		name    string
		keys    []jwk.Key
		wantErr string
	}{
		{name: "private key published as public", keys: []jwk.Key{withKID(priv, "k1")}},
		{name: "public key", keys: []jwk.Key{withKID(priv.Public(), "k1")}},
		{name: "no kid", keys: []jwk.Key{withKID(priv.Public(), "")}, wantErr: "no kid"},
		{name: "symmetric", keys: []jwk.Key{withKID([]byte("secret-secret-secret"), "s")}, wantErr: "symmetric"},
		{name: "no keys", wantErr: "at least one key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md, err := BuildJWTVCIssuerMetadata(testIssuer, tc.keys...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v does not contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			k := md.JWKS.Keys[0]
			if md.Issuer != testIssuer || k["kid"] != "k1" || k["kty"] != "EC" || hasPrivateMember(k) {
				t.Fatalf("unexpected document %+v", md)
			}
		})
	}
}

// TestBuildMetadataOtherFormats: an mso_mdoc input is one configuration with doctype, cose_key binding and the
// COSE number of ES256 (1.0 appendix A.2.2); a jwt_vc_json input one with credential_definition.type and claim
// paths through credentialSubject (appendix A.1.1.2). Neither gets a vc+sd-jwt twin or a vct.
func TestBuildMetadataOtherFormats(t *testing.T) {
	mdl := ConfigInput{ID: "mdl", Format: FormatMsoMdoc, DocType: "org.iso.18013.5.1.mDL",
		Display: []CredentialDisplay{{Name: "mDL"}},
		Claims:  []ClaimDescription{{Path: ClaimPath{"org.iso.18013.5.1", "given_name"}, Mandatory: true}}}
	vc := ConfigInput{ID: "emp", Format: FormatJWTVCJSON, Types: []string{"VerifiableCredential", "EmployeeID"},
		Claims: []ClaimDescription{{Path: ClaimPath{"given_name"}}}}
	md, err := BuildMetadata(testIssuer, DefaultEndpoints(testIssuer), []ConfigInput{mdl, vc})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(md.CredentialConfigurationsSupported)
	var got map[string]map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("configurations %v, want mdl and emp only", got)
	}
	m := got["mdl"]
	if m["format"] != "mso_mdoc" || m["doctype"] != "org.iso.18013.5.1.mDL" || m["scope"] != "mdl" || m["vct"] != nil {
		t.Errorf("mdoc configuration = %v", m)
	}
	if !reflect.DeepEqual(m["credential_signing_alg_values_supported"], []any{-7.0}) ||
		!reflect.DeepEqual(m["cryptographic_binding_methods_supported"], []any{"cose_key"}) {
		t.Errorf("mdoc algs %v binding %v", m["credential_signing_alg_values_supported"], m["cryptographic_binding_methods_supported"])
	}
	if p := m["credential_metadata"].(map[string]any)["claims"].([]any)[0].(map[string]any)["path"]; !reflect.DeepEqual(p, []any{"org.iso.18013.5.1", "given_name"}) {
		t.Errorf("mdoc claim path = %v", p)
	}
	v := got["emp"]
	if v["format"] != "jwt_vc_json" || v["vct"] != nil || !reflect.DeepEqual(v["credential_definition"], map[string]any{"type": []any{"VerifiableCredential", "EmployeeID"}}) {
		t.Errorf("jwt vc configuration = %v", v)
	}
	if !reflect.DeepEqual(v["credential_signing_alg_values_supported"], []any{"ES256"}) || !reflect.DeepEqual(v["cryptographic_binding_methods_supported"], []any{"jwk"}) {
		t.Errorf("jwt vc algs %v binding %v", v["credential_signing_alg_values_supported"], v["cryptographic_binding_methods_supported"])
	}
	if p := v["credential_metadata"].(map[string]any)["claims"].([]any)[0].(map[string]any)["path"]; !reflect.DeepEqual(p, []any{"credentialSubject", "given_name"}) {
		t.Errorf("jwt vc claim path = %v", p)
	}
	for name, bad := range map[string]ConfigInput{
		"mdoc without doctype": {ID: "x", Format: FormatMsoMdoc},
		"mdoc with deep path":  {ID: "x", Format: FormatMsoMdoc, DocType: "d", Claims: []ClaimDescription{{Path: ClaimPath{"a", "b", "c"}}}},
		"jwt vc without type":  {ID: "x", Format: FormatJWTVCJSON},
		"unknown format":       {ID: "x", Format: "ldp_vc", VCT: "v"},
		"sd-jwt without vct":   {ID: "x"},
	} {
		if _, err := BuildMetadata(testIssuer, DefaultEndpoints(testIssuer), []ConfigInput{bad}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
