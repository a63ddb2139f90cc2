package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// The DCQL query of the dynamic credential request: an EmployeeID credential (sampleDefinition) naming Erika.
const employeeQuery = `{"label":"Employee Erika","dcqlQuery":{"credentials":[{"id":"employee","format":"dc+sd-jwt",` +
	`"meta":{"vct_values":["EmployeeID"]},"claims":[{"path":["given_name"],"values":["Erika"]}]}]}}`

// registrationDefinition is the credential issued only after the presentation.
const registrationDefinition = `{"label":"Registration","credentialFormat":"dc+sd-jwt","vct":"Registration",` +
	`"expirationInDays":30,"claims":[{"path":["company"]}]}`

// TestDevserverWalletLibraryInterop runs the OpenWallet Foundation's wallet libraries against the real `make run`
// binary (one start, its own local stack, WALLET_TRUST_ANCHORS naming the PEM root of a test wallet provider):
// infra/interop/oid4vci_authcode.cjs takes an offer the printed admin key created, of a definition requiring DPoP
// and a client attestation, through the authorization code grant (PAR with DPoP retried on use_dpop_nonce and the
// provider's client attestation, PKCE S256, the ID token by did:jwk, a DPoP-bound token, credential), then
// infra/interop/oid4vci_present.cjs (@openid4vc/openid4vp, @sd-jwt/sd-jwt-vc) presents that credential, issued by
// this dev server to the same holder key, to a dynamic credential request whose DCQL query was created through the
// admin API with no trustedIssuers (this issuer's own credentials need no configuration), and gets the new one.
// Last, infra/interop/oid4vci_haip.cjs redeems a pre-authorized offer of the DPoP and attestation definition.
func TestDevserverWalletLibraryInterop(t *testing.T) {
	localstack.SkipWithoutStack(t)
	testkit.Node(t, "@openid4vc/openid4vp")
	interop := filepath.Join(testkit.MustRepoRoot(t), "infra", "interop")
	bin := testkit.BuildBinary(t, "devserver")
	port := testkit.MustFreePort(t)
	base := "http://127.0.0.1:" + port
	provider := attesttest.NewProvider(t, "Devserver Wallet Provider")
	rootPEM, _ := provider.WriteTrustFiles(t, t.TempDir())
	d := startDevserver(t, bin, port, filepath.Join(t.TempDir(), "local"), "WALLET_TRUST_ANCHORS="+rootPEM)
	d.waitServing(t)
	key := d.adminKey(t)

	// Every definition exists before a wallet first reads the metadata.
	haipEmployee := strings.Replace(sampleDefinition, `{`, `{"requireDpop":true,"requireClientAttestation":true,`, 1)
	employeeDef := createdID(t, base, key, "/credential-definition", haipEmployee, "credentialDefinition", "credentialDefinitionId")
	registrationDef := createdID(t, base, key, "/credential-definition", registrationDefinition, "credentialDefinition", "credentialDefinitionId")
	pdID := createdID(t, base, key, "/presentation-definition", employeeQuery, "presentationDefinition", "presentationDefinitionId")

	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	holderKey, err := jwk.FromRaw(priv)
	if err != nil {
		t.Fatal(err)
	}

	// The wallet instance key the provider attests, and the attestation the scripts present.
	instance := attesttest.NewKey(t)
	attestation := provider.ClientAttestationJWT(t, attesttest.ClientAttestation{Sub: "oid4vc-ts-wallet", Instance: instance})
	instanceKey, err := jwk.FromRaw(instance.Private)
	if err != nil {
		t.Fatal(err)
	}
	employeeOffer := `{"issuanceMode":"InTime","credentialDefinitionId":"` + employeeDef + `",` +
		`"credential":{"credentialSubject":{"given_name":"Erika","family_name":"Mustermann"}}}`

	// (a) The authorization code flow, with DPoP and the client attestation the definition requires.
	exID, link := offer(t, base, key, employeeOffer)
	var run struct {
		AuthorizationRequest  map[string]string `json:"authorizationRequest"`
		IDTokenRequest        map[string]string `json:"idTokenRequest"`
		AuthorizationResponse map[string]any    `json:"authorizationResponse"`
		TokenResponse         map[string]any    `json:"tokenResponse"`
		Credentials           []string          `json:"credentials"`
		HolderDID             string            `json:"holderDid"`
	}
	testkit.RunNode(t, "@openid4vc/openid4vci", filepath.Join(interop, "oid4vci_authcode.cjs"), map[string]any{"offerUri": link,
		"holderPrivateJwk": holderKey, "clientAttestation": attestation, "instanceKey": instanceKey, "dpop": true}, &run)
	if run.AuthorizationRequest["request_uri"] == "" || run.IDTokenRequest["response_type"] != "id_token" ||
		run.AuthorizationResponse["iss"] != base || run.TokenResponse["token_type"] != "DPoP" || len(run.Credentials) != 1 {
		t.Fatalf("authorization code run %+v", run)
	}
	keys := issuerKeys(t, base)
	v, err := sdjwt.Verify(run.Credentials[0], sdjwt.WithIssuerKeySet(keys))
	if err != nil || v.Claims["given_name"] != "Erika" || v.Claims["vct"] != "EmployeeID" {
		t.Fatalf("credential: %v %v", err, v)
	}
	rec := history(t, base, key, exID)
	holder, _ := rec["holder"].(map[string]any)
	if rec["isPreAuthorised"] != false || rec["idTokenVerified"] != true || holder["id"] != run.HolderDID ||
		rec["status"] != "credential_issued" || rec["clientId"] != "oid4vc-ts-wallet" ||
		rec["walletUnitAttestationVerified"] != true || rec["walletUnitAttestation"] != attestation {
		t.Errorf("authorization code record %v", rec)
	}

	// (b) The dynamic credential request: the holder presents what it got in (a).
	exID, link = offer(t, base, key, `{"issuanceMode":"InTime","credentialDefinitionId":"`+registrationDef+`",`+
		`"presentationDefinitionId":"`+pdID+`","credential":{"credentialSubject":{"company":"ACME Holding"}}}`)
	var pres struct {
		Error            string   `json:"error"`
		ErrorDescription string   `json:"errorDescription"`
		ClientIDPrefix   string   `json:"clientIdPrefix"`
		Credentials      []string `json:"credentials"`
	}
	testkit.RunNode(t, "@openid4vc/openid4vp", filepath.Join(interop, "oid4vci_present.cjs"), map[string]any{"offerUri": link,
		"holderPrivateJwk": holderKey, "present": []any{map[string]any{"queryId": "employee", "sdjwt": run.Credentials[0]}}}, &pres)
	if pres.Error != "" || len(pres.Credentials) != 1 {
		t.Fatalf("presentation run %+v", pres)
	}
	if v, err := sdjwt.Verify(pres.Credentials[0], sdjwt.WithIssuerKeySet(keys)); err != nil || v.Claims["company"] != "ACME Holding" {
		t.Fatalf("registration credential: %v %v", err, v)
	}
	rec = history(t, base, key, exID)
	holder, _ = rec["holder"].(map[string]any)
	claims, _ := holder["presentedClaims"].(map[string]any)
	list, _ := claims["employee"].([]any)
	presented, _ := holder["presentedCredentials"].([]any)
	if rec["presentationDefinitionId"] != pdID || rec["presentationExchangeId"] == "" || rec["presentationExchangeId"] == nil ||
		len(list) != 1 || list[0].(map[string]any)["given_name"] != "Erika" || rec["status"] != "credential_issued" ||
		len(presented) != 1 || presented[0].(map[string]any)["trustedBy"] != "this issuer" {
		t.Errorf("dynamic credential request record %v", rec)
	}

	// (c) The HAIP pre-authorized flow: DPoP retried on use_dpop_nonce at the token and credential endpoints, the
	// client attestation, a DPoP-bound token, the credential and the notification.
	exID, link = offer(t, base, key, employeeOffer)
	var haip struct {
		DPoPAlgs    []string          `json:"dpopAlgs"`
		AuthMethods []string          `json:"authMethods"`
		TokenType   string            `json:"tokenType"`
		Credentials []string          `json:"credentials"`
		HolderJWK   map[string]string `json:"holderJwk"`
		Notified    bool              `json:"notified"`
	}
	testkit.RunNode(t, "@openid4vc/openid4vci", filepath.Join(interop, "oid4vci_haip.cjs"),
		map[string]any{"offerUri": link, "clientAttestation": attestation, "instanceKey": instanceKey}, &haip)
	if haip.TokenType != "DPoP" || len(haip.Credentials) != 1 || !haip.Notified ||
		!slices.Contains(haip.DPoPAlgs, "ES256") || !slices.Contains(haip.AuthMethods, "attest_jwt_client_auth") {
		t.Fatalf("HAIP run %+v", haip)
	}
	v, err = sdjwt.Verify(haip.Credentials[0], sdjwt.WithIssuerKeySet(keys))
	if err != nil || v.Claims["given_name"] != "Erika" {
		t.Fatalf("HAIP credential: %v %v", err, v)
	}
	if cnf, _ := v.Claims["cnf"].(map[string]any)["jwk"].(map[string]any); cnf["x"] != haip.HolderJWK["x"] {
		t.Errorf("HAIP cnf.jwk %v, want the library's holder key", cnf)
	}
	rec = history(t, base, key, exID)
	if rec["status"] != "credential_accepted" || rec["isPreAuthorised"] != true || rec["clientId"] != "oid4vc-ts-wallet" ||
		rec["walletUnitAttestationVerified"] != true || rec["walletUnitAttestation"] != attestation {
		t.Errorf("HAIP record %v", rec)
	}
	d.stop(t)
}

// createdID posts body to an admin collection and returns the new item's id (the answer's item.idField).
func createdID(t *testing.T, base, key, path, body, item, idField string) string {
	t.Helper()
	status, out := getJSON(t, "POST", base+adminBase+path, key, body)
	id, _ := out[item].(map[string]any)[idField].(string)
	if (status != 200 && status != 201) || id == "" {
		t.Fatalf("POST %s: %d %v", path, status, out)
	}
	return id
}

// offer creates an offer through the admin API and returns its exchange id and link.
func offer(t *testing.T, base, key, body string) (exchangeID, link string) {
	t.Helper()
	status, out := getJSON(t, "POST", base+adminBase+"/credential/issue", key, body)
	rec, _ := out["credentialHistory"].(map[string]any)
	exchangeID, _ = rec["credentialExchangeId"].(string)
	link, _ = rec["credentialOffer"].(string)
	if status != 200 || exchangeID == "" || link == "" {
		t.Fatalf("offer %s: %d %v", body, status, out)
	}
	return exchangeID, link
}

// history is the exchange's record as the admin API shows it.
func history(t *testing.T, base, key, exchangeID string) map[string]any {
	t.Helper()
	status, out := getJSON(t, "GET", base+adminBase+"/credential/history/"+exchangeID, key, "")
	rec, _ := out["credentialHistory"].(map[string]any)
	if status != 200 || rec == nil {
		t.Fatalf("history %s: %d %v", exchangeID, status, out)
	}
	return rec
}

// issuerKeys is the key set of the dev server's /.well-known/jwt-vc-issuer.
func issuerKeys(t *testing.T, base string) jwk.Set {
	t.Helper()
	status, out := getJSON(t, "GET", base+"/.well-known/jwt-vc-issuer", "", "")
	raw, _ := json.Marshal(out["jwks"])
	set, err := jwk.Parse(raw)
	if err != nil || status != 200 {
		t.Fatalf("jwt-vc-issuer: %d %v %s", status, err, fmt.Sprint(out))
	}
	return set
}
