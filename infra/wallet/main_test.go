package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
	"github.com/sdjwt-issuer/issuer/infra/load/inproc"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"a", "b"}, {"-notify", "maybe", "link"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage:") {
			t.Errorf("run(%q) = %d, stderr %q; want 2 with the usage", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"not-an-offer"}, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "offer link") {
		t.Errorf("a link without credential_offer_uri: %d %q", code, errOut.String())
	}
}

// TestReceivesAnOffer runs the command on offers of a real issuer: with the right PIN it prints the verified
// claims and the SD-JWT; without a PIN and no terminal, or with a wrong one, it fails saying why.
func TestReceivesAnOffer(t *testing.T) {
	ctx := context.Background()
	srv := inproc.ForTest(t, "k")
	admin := &flow.Client{BaseURL: srv.URL, AdminKey: "k", Subject: map[string]any{"given_name": "Erika"}}
	def, err := admin.CreateDefinition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, link, err := admin.CreateExchange(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{link}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("run: %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"Redeemed the pre-authorized code.", "Received 1 credential(s).",
		"Notified the issuer: credential_accepted.", `"given_name": "Erika"`, "SD-JWT:\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// An offer with a PIN: none given and no terminal to ask on, then a wrong one, then the right one.
	body := `{"issuanceMode":"InTime","userPin":"482193","credentialDefinitionId":"` + def + `",` +
		`"credential":{"credentialSubject":{"given_name":"Max"}}}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+flow.AdminBase+"/credential/issue", strings.NewReader(body))
	req.Header.Set("Authorization", "ApiKey k")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var issued struct {
		CredentialHistory struct {
			CredentialOffer string `json:"credentialOffer"`
		} `json:"credentialHistory"`
	}
	_ = json.NewDecoder(res.Body).Decode(&issued)
	res.Body.Close()
	pinLink := issued.CredentialHistory.CredentialOffer
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{pinLink}, 1, "pass it with -pin"},
		{[]string{"-pin", "000000", pinLink}, 1, "token: HTTP 400"},
		{[]string{"-pin", "482193", "-notify", "none", pinLink}, 0, ""},
	} {
		out.Reset()
		errOut.Reset()
		if code := run(ctx, tc.args, strings.NewReader(""), &out, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("run(%q) = %d, stderr %q; want %d with %q", tc.args[:len(tc.args)-1], code, errOut.String(), tc.code, tc.want)
		}
	}
	if !strings.Contains(out.String(), `"given_name": "Max"`) || strings.Contains(out.String(), "Notified") {
		t.Errorf("with the PIN and -notify none:\n%s", out.String())
	}
	// The first offer again: the code is spent.
	out.Reset()
	errOut.Reset()
	if code := run(ctx, []string{link}, strings.NewReader(""), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "wallet:") {
		t.Errorf("a spent offer: %d %q", code, errOut.String())
	}
}

// adminPost posts body to the admin API of srv and decodes the answer into out.
func adminPost(t *testing.T, url, path, body string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+flow.AdminBase+path, strings.NewReader(body))
	req.Header.Set("Authorization", "ApiKey k")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d", path, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// TestReceivesEveryFormat: the command receives and checks an mdoc and a JWT VC as well, printing their claims.
func TestReceivesEveryFormat(t *testing.T) {
	ctx := context.Background()
	srv := inproc.ForTest(t, "k")
	for _, tc := range []struct {
		definition, subject string
		want                []string
	}{
		{`{"label":"mDL","credentialFormat":"mso_mdoc","doctype":"org.iso.18013.5.1.mDL","expirationInDays":30,` +
			`"claims":[{"path":["org.iso.18013.5.1","birth_date"],"valueType":"full-date"}]}`,
			`{"org.iso.18013.5.1":{"given_name":"Erika","birth_date":"1964-08-12"}}`,
			[]string{"mdoc (base64url IssuerSigned, docType org.iso.18013.5.1.mDL):", `"given_name": "Erika"`,
				`"birth_date": "1964-08-12 (full-date)"`}},
		{`{"label":"Badge","credentialFormat":"jwt_vc_json","type":["VerifiableCredential","Badge"],"expirationInDays":30}`,
			`{"given_name":"Erika"}`, []string{"JWT VC:", `"given_name": "Erika"`, `"VerifiableCredential"`}},
	} {
		var def struct {
			CredentialDefinition struct {
				ID string `json:"credentialDefinitionId"`
			} `json:"credentialDefinition"`
		}
		adminPost(t, srv.URL, "/credential-definition", tc.definition, &def)
		var issued struct {
			CredentialHistory struct {
				CredentialOffer string `json:"credentialOffer"`
			} `json:"credentialHistory"`
		}
		adminPost(t, srv.URL, "/credential/issue", `{"issuanceMode":"InTime","credentialDefinitionId":"`+
			def.CredentialDefinition.ID+`","credential":{"credentialSubject":`+tc.subject+`}}`, &issued)
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{issued.CredentialHistory.CredentialOffer}, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("run: %d\n%s%s", code, out.String(), errOut.String())
		}
		for _, want := range tc.want {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	}
}
