package e2e

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/jwtvc"
	"github.com/sdjwt-issuer/issuer/shared/mdoc"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

// formatDefinition creates a revocable definition of the given body and returns its id.
func (is *issuer) formatDefinition(body map[string]any) string {
	is.t.Helper()
	body["expirationInDays"], body["supportRevocation"] = 30, true
	r := is.admin(http.MethodPost, "/credential-definition", body)
	if r.status != http.StatusCreated {
		is.t.Fatalf("create definition: %d %s", r.status, r.raw)
	}
	def, _ := r.json["credentialDefinition"].(map[string]any)
	id, _ := def["credentialDefinitionId"].(string)
	return id
}

// formatWalletRun is the output of oid4vci_schema.cjs with revealHolderKey.
type formatWalletRun struct {
	walletRun
	HolderPrivateJWK map[string]any `json:"holderPrivateJwk"`
}

// TestEveryFormatFromDefinitionToVerifier is what the issue asks a new user to try: a definition of each format,
// an offer of each, the OpenWallet Foundation's wallet library (@openid4vc/openid4vci) receives each from the
// running issuer (metadata, tx_code, token, nonce, credential, notification), and an independent verifier checks
// each: @animo-id/mdoc the mdoc (issuer signature with the document signer certificate, which holds the key
// /.well-known/jwt-vc-issuer publishes; validity; digests; a DeviceResponse signed with the wallet's key), jose
// the JWT VC (by the published JWKS). Revoking the exchange then shows in the status list entry each credential
// names (the MSO's status, the JWT's status claim and credentialStatus).
func TestEveryFormatFromDefinitionToVerifier(t *testing.T) {
	testkit.Node(t, openid4vci)
	is := startIssuer(t)
	jwks := jwksOf(t, is)
	issuerKey, _ := jwks.Key(0)

	for _, tc := range []struct {
		name       string
		definition map[string]any
		subject    map[string]any
		check      func(t *testing.T, cred string, run formatWalletRun) statuslist.Reference
	}{
		{"mso_mdoc", map[string]any{"label": "Mobile driving licence", "credentialFormat": "mso_mdoc",
			"doctype": "org.iso.18013.5.1.mDL", "claims": []any{
				map[string]any{"path": []any{"org.iso.18013.5.1", "given_name"}, "mandatory": true,
					"display": []any{map[string]any{"name": "Given name", "locale": "en"}}},
				map[string]any{"path": []any{"org.iso.18013.5.1", "birth_date"}, "valueType": "full-date"},
				map[string]any{"path": []any{"org.iso.18013.5.1", "portrait"}, "valueType": "bytes"},
			}, "display": []any{map[string]any{"name": "Mobile driving licence", "locale": "en"}}},
			map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika", "family_name": "Mustermann",
				"birth_date": "1964-08-12", "portrait": "_9j_4A", "age_over_18": true}},
			func(t *testing.T, cred string, run formatWalletRun) statuslist.Reference {
				cert := documentSignerCertificate(t, cred)
				var pub ecdsa.PublicKey
				if err := issuerKey.Raw(&pub); err != nil || !pub.Equal(cert.PublicKey) {
					t.Fatal("the mdoc's document signer certificate does not hold the issuer's published key")
				}
				var out mdocVerification
				testkit.RunNode(t, "@animo-id/mdoc", interopScript(t, "mdoc_verify.cjs"), map[string]any{
					"credential": cred, "docType": "org.iso.18013.5.1.mDL",
					"trustedCertificate": base64.StdEncoding.EncodeToString(cert.Raw),
					"devicePrivateJwk":   run.HolderPrivateJWK, "now": time.Now().UnixMilli()}, &out)
				for _, c := range out.Checks {
					if c.Status != "PASSED" {
						t.Errorf("@animo-id/mdoc: %s %s: %s", c.Status, c.Check, c.Reason)
					}
				}
				mdl := out.NameSpaces["org.iso.18013.5.1"]
				if len(out.Checks) < 10 || mdl["given_name"] != "Erika" || mdl["age_over_18"] != true {
					t.Errorf("%d checks, elements %v", len(out.Checks), mdl)
				}
				sl, _ := out.MSO.Status["status_list"].(map[string]any)
				idx, _ := sl["idx"].(float64)
				uri, _ := sl["uri"].(string)
				return statuslist.Reference{Idx: int(idx), URI: uri}
			}},
		{"jwt_vc_json", map[string]any{"label": "Employee ID", "credentialFormat": "jwt_vc_json",
			"type": []any{"VerifiableCredential", "EmployeeID"}, "claims": []any{
				map[string]any{"path": []any{"given_name"}, "mandatory": true},
			}},
			map[string]any{"given_name": "Erika", "family_name": "Mustermann"},
			func(t *testing.T, cred string, run formatWalletRun) statuslist.Reference {
				var out struct {
					Payload  map[string]any `json:"payload"`
					Problems []string       `json:"problems"`
				}
				testkit.RunNode(t, "jose", interopScript(t, "jwtvc_verify.cjs"), map[string]any{"jwt": cred,
					"jwks": jwks, "now": time.Now().Unix(), "holderJwk": run.HolderJWK}, &out)
				if len(out.Problems) != 0 {
					t.Errorf("jose verifier: %v", out.Problems)
				}
				vc, _ := out.Payload["vc"].(map[string]any)
				subject, _ := vc["credentialSubject"].(map[string]any)
				if out.Payload["iss"] != is.url || subject["given_name"] != "Erika" {
					t.Errorf("payload %v", out.Payload)
				}
				sl, _ := out.Payload["status"].(map[string]any)["status_list"].(map[string]any)
				idx, _ := sl["idx"].(float64)
				uri, _ := sl["uri"].(string)
				return statuslist.Reference{Idx: int(idx), URI: uri}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defID := is.formatDefinition(tc.definition)
			exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "userPin": "4821",
				"credentialDefinitionId": defID, "credential": map[string]any{"credentialSubject": tc.subject}})
			var run formatWalletRun
			runNode(t, "oid4vci_schema.cjs", map[string]any{"offerUri": link, "txCode": "4821", "revealHolderKey": true}, &run)
			if len(run.Credentials) != 1 || !run.Notified || len(run.ConfigurationIDs) != 1 || run.ConfigurationIDs[0] != defID {
				t.Fatalf("wallet run %+v", run.walletRun)
			}
			ref := tc.check(t, run.Credentials[0], run)
			if !strings.HasPrefix(ref.URI, is.url+"/status-lists/") {
				t.Fatalf("status reference %+v is not the issuer's", ref)
			}
			h := is.history(exID)
			if h["credentialFormat"] != tc.name || h["credentialToken"] != run.Credentials[0] || h["status"] != "credential_accepted" {
				t.Errorf("history format %v status %v", h["credentialFormat"], h["status"])
			}
			if st, _, _ := is.fetchStatuses(t, []statuslist.Reference{ref}, jwks); st[0] != statuslist.Valid {
				t.Fatalf("status before revocation %v", st[0])
			}
			if r := is.admin(http.MethodPut, "/credential/history/"+exID+"/revocation-status",
				map[string]any{"revocationStatus": "Revoked"}); r.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.status, r.raw)
			}
			if st, _, _ := is.fetchStatuses(t, []statuslist.Reference{ref}, jwks); st[0] != statuslist.Invalid {
				t.Errorf("status after revocation %v, want invalid", st[0])
			}
		})
	}
}

// mdocVerification is what mdoc_verify.cjs reports.
type mdocVerification struct {
	Checks []struct {
		Check  string `json:"check"`
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"checks"`
	NameSpaces map[string]map[string]any `json:"nameSpaces"`
	MSO        struct {
		Status map[string]any `json:"status"`
	} `json:"mso"`
}

func interopScript(t *testing.T, name string) string {
	return testkit.MustRepoRoot(t) + "/infra/interop/" + name
}

// documentSignerCertificate is the first x5chain certificate of an mso_mdoc credential's IssuerAuth.
func documentSignerCertificate(t *testing.T, cred string) *x509.Certificate {
	t.Helper()
	b, err := mdoc.DecodeCredential(cred)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := mdoc.Certificates(b)
	if err != nil {
		t.Fatal(err)
	}
	return chain[0]
}

// TestDeferredBatchOfEveryFormat: over HTTP with the local KMS key, a Deferred exchange of each format answers
// a two-proof credential request with transaction_id (202); the organisation completes it with PUT
// .../credential/history/{id}; the deferred endpoint then answers two credentials of that format, one bound to
// each proven key (the mdoc's device key, the JWT VC's cnf), both verifying with the issuer's published key.
func TestDeferredBatchOfEveryFormat(t *testing.T) {
	is := startIssuer(t)
	jwks := jwksOf(t, is)
	issuerKey, _ := jwks.Key(0)
	var issuerPub ecdsa.PublicKey
	if err := issuerKey.Raw(&issuerPub); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		definition map[string]any
		subject    map[string]any
		bound      func(t *testing.T, cred string) jwk.Key
	}{
		{"mso_mdoc", map[string]any{"label": "PID", "credentialFormat": "mso_mdoc", "doctype": "eu.europa.ec.eudi.pid.1"},
			map[string]any{"eu.europa.ec.eudi.pid.1": map[string]any{"family_name": "Mustermann", "given_name": "Erika"}},
			func(t *testing.T, cred string) jwk.Key {
				cert := documentSignerCertificate(t, cred)
				if !issuerPub.Equal(cert.PublicKey) {
					t.Fatal("document signer certificate of another key")
				}
				roots := x509.NewCertPool()
				roots.AddCert(cert)
				b, _ := mdoc.DecodeCredential(cred)
				v, err := mdoc.Verify(b, mdoc.VerifyOptions{Roots: roots, DocType: "eu.europa.ec.eudi.pid.1"})
				if err != nil {
					t.Fatal(err)
				}
				if v.NameSpaces["eu.europa.ec.eudi.pid.1"]["given_name"] != "Erika" || v.Status == nil {
					t.Errorf("elements %v status %v", v.NameSpaces, v.Status)
				}
				k, err := jwk.FromRaw(v.DeviceKey)
				if err != nil {
					t.Fatal(err)
				}
				return k
			}},
		{"jwt_vc_json", map[string]any{"label": "Badge", "credentialFormat": "jwt_vc_json",
			"type": []any{"VerifiableCredential", "Badge"}},
			map[string]any{"given_name": "Erika"},
			func(t *testing.T, cred string) jwk.Key {
				v, err := jwtvc.Verify(cred, jwks, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if v.Subject["given_name"] != "Erika" || v.Status == nil {
					t.Errorf("subject %v status %v", v.Subject, v.Status)
				}
				return v.HolderKey
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defID := is.formatDefinition(tc.definition)
			exID, link := is.issue(map[string]any{"issuanceMode": "Deferred", "credentialDefinitionId": defID})
			token, nonce := is.accessToken(link), is.cNonce()
			holders := []holder{newHolder(t), newHolder(t)}
			cred := is.postJSON("/credential", token, map[string]any{"credential_configuration_id": defID,
				"proofs": map[string]any{"jwt": []string{holders[0].proof(t, is.url, nonce), holders[1].proof(t, is.url, nonce)}}})
			if cred.status != http.StatusAccepted || cred.str("transaction_id") == "" {
				t.Fatalf("credential: %d %s", cred.status, cred.raw)
			}
			if r := is.admin(http.MethodPut, "/credential/history/"+exID, map[string]any{
				"credential": map[string]any{"credentialSubject": tc.subject}}); r.status != http.StatusOK {
				t.Fatalf("complete: %d %s", r.status, r.raw)
			}
			picked := is.postJSON("/deferred-credential", token, map[string]any{"transaction_id": cred.str("transaction_id")})
			creds, _ := picked.json["credentials"].([]any)
			if picked.status != http.StatusOK || len(creds) != 2 {
				t.Fatalf("deferred credential: %d %s", picked.status, picked.raw)
			}
			for i, c := range creds {
				s, _ := c.(map[string]any)["credential"].(string)
				if !jwk.Equal(tc.bound(t, s), holders[i].pub) {
					t.Errorf("credential %d is not bound to proof key %d", i, i)
				}
			}
			if h := is.history(exID); h["credentialFormat"] != tc.name || h["status"] != "credential_acked" {
				t.Errorf("history format %v status %v", h["credentialFormat"], h["status"])
			}
		})
	}
}
