package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// joseScript is the wallet side of encryption played by jose (infra/interop/jose_jwe.cjs).
const joseScript = "../interop/jose_jwe.cjs"

// joseKey is a wallet encryption key made by jose.
type joseKey struct {
	Public  map[string]any `json:"publicJwk"`
	Private map[string]any `json:"privateJwk"`
}

func newJoseKey(t *testing.T) joseKey {
	t.Helper()
	var k joseKey
	testkit.RunNode(t, "jose", joseScript, map[string]any{"op": "keygen"}, &k)
	return k
}

// joseDecrypt opens a compact JWE with jose and returns its protected header and the decoded JSON plaintext.
func joseDecrypt(t *testing.T, jwe string, key joseKey) (map[string]any, map[string]any) {
	t.Helper()
	var out struct {
		Header    map[string]any `json:"header"`
		Plaintext string         `json:"plaintext"`
	}
	testkit.RunNode(t, "jose", joseScript, map[string]any{"op": "decrypt", "jwe": jwe, "privateJwk": key.Private}, &out)
	var body map[string]any
	if err := json.Unmarshal([]byte(out.Plaintext), &body); err != nil {
		t.Fatalf("decrypted plaintext is not JSON: %v", err)
	}
	return out.Header, body
}

// encryptedDefinition creates a definition that requires encrypted responses and returns its id.
func (is *issuer) encryptedDefinition() string {
	is.t.Helper()
	r := is.admin(http.MethodPost, "/credential-definition", map[string]any{
		"label": "Encrypted A1", "vct": "EncryptedA1", "expirationInDays": 30, "encryptionRequired": true,
		"claims": []any{map[string]any{"path": []any{"given_name"}, "limitDisclosure": true}}})
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		is.t.Fatalf("create definition: %d %s", r.status, r.raw)
	}
	def, _ := r.json["credentialDefinition"].(map[string]any)
	if def["encryptionRequired"] != true {
		is.t.Fatalf("definition %s", r.raw)
	}
	return def["credentialDefinitionId"].(string)
}

// accessToken redeems the exchange's offer and returns the access token.
func (is *issuer) accessToken(link string) string {
	is.t.Helper()
	offer := is.do(http.MethodGet, offerURI(is.t, link), nil)
	grant, _ := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	tok := is.postForm("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"},
		"pre-authorized_code": {grant["pre-authorized_code"].(string)}})
	if tok.status != http.StatusOK {
		is.t.Fatalf("token %d %s", tok.status, tok.raw)
	}
	return tok.str("access_token")
}

func (is *issuer) cNonce() string {
	is.t.Helper()
	return is.do(http.MethodPost, "/nonce", nil).str("c_nonce")
}

// TestEncryptedCredentialResponse: a definition that requires encryption refuses a clear request with
// invalid_encryption_parameters; jose's key in the 1.0 shape (alg in the jwk, kid, zip DEF, A256GCM) gets an
// application/jwt answer that jose decrypts into the credential response; the record keeps alg, enc, zip and the
// public JWK only; the metadata announces what was used.
func TestEncryptedCredentialResponse(t *testing.T) {
	is := startIssuer(t)
	defID := is.encryptedDefinition()
	md := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil)
	cre, _ := md.json["credential_response_encryption"].(map[string]any)
	if cre["encryption_required"] != false || !strings.Contains(string(md.raw), `"alg_values_supported":["ECDH-ES"]`) ||
		!strings.Contains(string(md.raw), `"enc_values_supported":["A128GCM","A256GCM"]`) {
		t.Fatalf("credential_response_encryption %v", cre)
	}
	cfg, _ := md.json["credential_configurations_supported"].(map[string]any)[defID].(map[string]any)
	if c, _ := cfg["credential_response_encryption"].(map[string]any); c["encryption_required"] != true {
		t.Fatalf("configuration %v", cfg)
	}
	exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	access := is.accessToken(link)
	h := newHolder(t)

	clear := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, is.cNonce())}}})
	if clear.status != http.StatusBadRequest || clear.str("error") != "invalid_encryption_parameters" ||
		!strings.Contains(clear.str("error_description"), "credential_response_encryption") {
		t.Fatalf("clear request: %d %s", clear.status, clear.raw)
	}

	key := newJoseKey(t)
	pub := map[string]any{}
	for k, v := range key.Public {
		pub[k] = v
	}
	pub["alg"], pub["kid"], pub["use"] = "ECDH-ES", "wallet-enc-1", "enc"
	enc := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs":                         map[string]any{"jwt": []string{h.proof(t, is.url, is.cNonce())}},
		"credential_response_encryption": map[string]any{"jwk": pub, "enc": "A256GCM", "zip": "DEF"}})
	if enc.status != http.StatusOK || enc.header.Get("Content-Type") != "application/jwt" || enc.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("encrypted answer: %d %v %s", enc.status, enc.header, enc.raw)
	}
	if strings.Contains(string(enc.raw), "Erika") || strings.Count(string(enc.raw), ".") != 4 {
		t.Fatalf("the answer is not a compact JWE")
	}
	hdr, body := joseDecrypt(t, string(enc.raw), key)
	if hdr["alg"] != "ECDH-ES" || hdr["enc"] != "A256GCM" || hdr["zip"] != "DEF" || hdr["kid"] != "wallet-enc-1" || hdr["epk"] == nil {
		t.Fatalf("JWE header %v", hdr)
	}
	creds, _ := body["credentials"].([]any)
	if len(creds) != 1 || body["notification_id"] == nil {
		t.Fatalf("decrypted response %v", body)
	}
	jv := is.do(http.MethodGet, "/.well-known/jwt-vc-issuer", nil)
	jwksRaw, _ := json.Marshal(jv.json["jwks"])
	jwks, err := jwk.Parse(jwksRaw)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sdjwt.Verify(creds[0].(map[string]any)["credential"].(string), sdjwt.WithIssuerKeySet(jwks))
	if err != nil || v.Claims["given_name"] != "Erika" {
		t.Fatalf("decrypted credential: %v %v", v, err)
	}

	rec := is.history(exID)["credentialResponseEncryption"].(map[string]any)
	recKey, _ := rec["jwk"].(map[string]any)
	if rec["alg"] != "ECDH-ES" || rec["enc"] != "A256GCM" || rec["zip"] != "DEF" || recKey["x"] != key.Public["x"] || recKey["kid"] != "wallet-enc-1" {
		t.Fatalf("record credentialResponseEncryption %v", rec)
	}
	if _, ok := recKey["d"]; ok {
		t.Fatal("the record holds a private key")
	}
}

// TestEncryptedDeferredAnswers: the draft 13 shape {jwk, alg, enc} with A128GCM encrypts the 202 deferral too
// (1.0 section 8.3: whatever the answer holds); the pick-up is encrypted to the key of the deferred request, which
// may be another one.
func TestEncryptedDeferredAnswers(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	exID, link := is.issue(map[string]any{"issuanceMode": "Deferred", "credentialDefinitionId": defID})
	access := is.accessToken(link)
	h := newHolder(t)
	first := newJoseKey(t)
	deferral := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs":                         map[string]any{"jwt": []string{h.proof(t, is.url, is.cNonce())}},
		"credential_response_encryption": map[string]any{"jwk": first.Public, "alg": "ECDH-ES", "enc": "A128GCM"}})
	if deferral.status != http.StatusAccepted || deferral.header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("deferral %d %v %s", deferral.status, deferral.header, deferral.raw)
	}
	hdr, body := joseDecrypt(t, string(deferral.raw), first)
	txn, _ := body["transaction_id"].(string)
	if hdr["enc"] != "A128GCM" || hdr["zip"] != nil || txn == "" || body["interval"] == nil {
		t.Fatalf("deferral header %v body %v", hdr, body)
	}
	done := is.admin(http.MethodPut, "/credential/history/"+exID, map[string]any{"credential": map[string]any{"credentialSubject": erika}})
	if done.status != http.StatusOK {
		t.Fatalf("complete: %d %s", done.status, done.raw)
	}
	second := newJoseKey(t)
	second.Public["alg"] = "ECDH-ES"
	pick := is.postJSON("/deferred-credential", access, map[string]any{"transaction_id": txn,
		"credential_response_encryption": map[string]any{"jwk": second.Public, "enc": "A256GCM"}})
	if pick.status != http.StatusOK || pick.header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("pick-up %d %s", pick.status, pick.raw)
	}
	_, body = joseDecrypt(t, string(pick.raw), second)
	if creds, _ := body["credentials"].([]any); len(creds) != 1 {
		t.Fatalf("pick-up body %v", body)
	}
	if rec := is.history(exID)["credentialResponseEncryption"].(map[string]any); rec["enc"] != "A256GCM" {
		t.Fatalf("record keeps %v, want the deferred request's parameters", rec)
	}
}

// withRequestEncryption offers request encryption with a new symmetric local-kms key wrapping the request keys.
func withRequestEncryption(t *testing.T, required bool) func(*config.Config, aws.Config) {
	return func(cfg *config.Config, awsCfg aws.Config) {
		t.Helper()
		k, err := kms.NewFromConfig(awsCfg).CreateKey(context.Background(), &kms.CreateKeyInput{
			KeySpec: kmstypes.KeySpecSymmetricDefault, KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Trust.RequestEncryptionKMSKeyID = *k.KeyMetadata.Arn
		cfg.Trust.RequestEncryptionRequired = required
	}
}

// joseEncrypt encrypts a request body with jose to the issuer's key (alg from the jwk, its kid).
func joseEncrypt(t *testing.T, body any, key map[string]any, enc string) string {
	t.Helper()
	plain, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		JWE string `json:"jwe"`
	}
	testkit.RunNode(t, "jose", joseScript, map[string]any{"op": "encrypt", "plaintext": string(plain), "jwk": key, "enc": enc}, &out)
	return out.JWE
}

func (is *issuer) postJWT(path, token, jwe string) *response {
	is.t.Helper()
	return is.do(http.MethodPost, path, strings.NewReader(jwe), "Content-Type", "application/jwt", "Authorization", "Bearer "+token)
}

// TestEncryptedCredentialRequest: the metadata announces credential_request_encryption with the issuer's key;
// jose encrypts the 1.0 request (credential_response_encryption inside) to it and decrypts the encrypted answer;
// the same request in the clear, and every wrong JWE, is invalid_encryption_parameters; the stored key item holds a
// KMS ciphertext, never the private key.
func TestEncryptedCredentialRequest(t *testing.T) {
	is := startIssuerLogging(t, io.Discard, withRequestEncryption(t, false))
	defID := is.definition()
	md := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil)
	cre, _ := md.json["credential_request_encryption"].(map[string]any)
	keysList, _ := cre["jwks"].(map[string]any)["keys"].([]any)
	if len(keysList) != 1 || cre["encryption_required"] != false || !strings.Contains(string(md.raw), `"enc_values_supported":["A128GCM","A256GCM"]`) {
		t.Fatalf("credential_request_encryption %v", cre)
	}
	issuerKey := keysList[0].(map[string]any)
	if issuerKey["alg"] != "ECDH-ES" || issuerKey["kid"] == nil || issuerKey["use"] != "enc" || issuerKey["d"] != nil {
		t.Fatalf("issuer key %v", issuerKey)
	}

	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	access := is.accessToken(link)
	h := newHolder(t)
	wallet := newJoseKey(t)
	wallet.Public["alg"] = "ECDH-ES"
	request := func() map[string]any {
		return map[string]any{"credential_configuration_id": defID,
			"proofs":                         map[string]any{"jwt": []string{h.proof(t, is.url, is.cNonce())}},
			"credential_response_encryption": map[string]any{"jwk": wallet.Public, "enc": "A128GCM"}}
	}
	clear := is.postJSON("/credential", access, request())
	if clear.status != http.StatusBadRequest || clear.str("error") != "invalid_encryption_parameters" ||
		!strings.Contains(clear.str("error_description"), "must itself be encrypted") {
		t.Fatalf("clear 1.0 request with response encryption: %d %s", clear.status, clear.raw)
	}
	for _, bad := range []struct{ name, jwe, want string }{
		{"not a JWE", "a.b.c", "compact JWE"},
		{"another key's kid", joseEncrypt(t, request(), map[string]any{"kty": "EC", "crv": "P-256", "x": wallet.Public["x"],
			"y": wallet.Public["y"], "alg": "ECDH-ES", "kid": "req-1-unknown"}, "A128GCM"), "names no current key"},
		{"unsupported enc", joseEncrypt(t, request(), issuerKey, "A128CBC-HS256"), "enc is not supported"},
	} {
		r := is.postJWT("/credential", access, bad.jwe)
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_encryption_parameters" || !strings.Contains(r.str("error_description"), bad.want) {
			t.Fatalf("%s: %d %s", bad.name, r.status, r.raw)
		}
	}

	ans := is.postJWT("/credential", access, joseEncrypt(t, request(), issuerKey, "A256GCM"))
	if ans.status != http.StatusOK || ans.header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("encrypted request: %d %s", ans.status, ans.raw)
	}
	_, body := joseDecrypt(t, string(ans.raw), wallet)
	if creds, _ := body["credentials"].([]any); len(creds) != 1 {
		t.Fatalf("decrypted answer %v", body)
	}

	// The key item: public JWK and wrapped private key only.
	out, err := dynamodb.NewFromConfig(is.aws).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(is.table)})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, item := range out.Items {
		pk, _ := item["pk"].(*ddbtypes.AttributeValueMemberS)
		if pk == nil || !strings.HasPrefix(pk.Value, "REQKEY#") {
			continue
		}
		found++
		for name := range item {
			switch name {
			case "pk", "sk", "kid", "publicJwk", "wrappedPrivateKey", "ttl":
			default:
				t.Errorf("key item attribute %s", name)
			}
		}
		if pub, _ := item["publicJwk"].(*ddbtypes.AttributeValueMemberS); pub == nil || strings.Contains(pub.Value, `"d"`) {
			t.Errorf("stored public JWK %v", item["publicJwk"])
		}
	}
	if found != 1 {
		t.Fatalf("%d request key items", found)
	}
}

// TestRequestEncryptionRequired: with REQUEST_ENCRYPTION_REQUIRED a clear request is refused, even in the draft 13
// shape; an encrypted deferred credential request is answered.
func TestRequestEncryptionRequired(t *testing.T) {
	is := startIssuerLogging(t, io.Discard, withRequestEncryption(t, true))
	defID := is.definition()
	md := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil)
	cre, _ := md.json["credential_request_encryption"].(map[string]any)
	if cre["encryption_required"] != true {
		t.Fatalf("credential_request_encryption %v", cre)
	}
	issuerKey := cre["jwks"].(map[string]any)["keys"].([]any)[0].(map[string]any)
	_, link := is.issue(map[string]any{"issuanceMode": "Deferred", "credentialDefinitionId": defID})
	access := is.accessToken(link)
	h := newHolder(t)
	clear := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, is.cNonce())}}})
	if clear.status != http.StatusBadRequest || !strings.Contains(clear.str("error_description"), "only encrypted requests") {
		t.Fatalf("clear request: %d %s", clear.status, clear.raw)
	}
	deferral := is.postJWT("/credential", access, joseEncrypt(t, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, is.cNonce())}}}, issuerKey, "A128GCM"))
	if deferral.status != http.StatusAccepted || deferral.str("transaction_id") == "" {
		t.Fatalf("encrypted deferral: %d %s", deferral.status, deferral.raw)
	}
	pending := is.postJWT("/deferred-credential", access, joseEncrypt(t, map[string]any{"transaction_id": deferral.str("transaction_id")}, issuerKey, "A256GCM"))
	if pending.status != http.StatusAccepted || pending.str("transaction_id") != deferral.str("transaction_id") {
		t.Fatalf("encrypted deferred request: %d %s", pending.status, pending.raw)
	}
	if r := is.postJSON("/deferred-credential", access, map[string]any{"transaction_id": deferral.str("transaction_id")}); r.status != http.StatusBadRequest {
		t.Fatalf("clear deferred request: %d %s", r.status, r.raw)
	}
}
