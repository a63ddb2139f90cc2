package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/mdoc"
)

// withChain configures the issuer with a chain made by a fresh root and intermediate for the local KMS key: the
// leaf made by leaf (nil: a valid leaf naming the issuer URL). It returns the root.
func withChain(t *testing.T, root **issuercert.CA, leaf func(ca *issuercert.CA, pub any, issuerURL string) []byte) func(*config.Config, aws.Config) {
	return func(cfg *config.Config, awsCfg aws.Config) {
		t.Helper()
		now := time.Now()
		r, err := issuercert.NewCA("E2E Root", now.Add(-time.Hour), now.AddDate(1, 0, 0), issuercert.WithCountry("UT"))
		if err != nil {
			t.Fatal(err)
		}
		inter, err := r.NewIntermediate("E2E Issuing CA", now.Add(-time.Hour), now.AddDate(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		key, err := keys.NewKMS(context.Background(), kms.NewFromConfig(awsCfg), cfg.KMSKeyID)
		if err != nil {
			t.Fatal(err)
		}
		pub := key.CryptoSigner(context.Background()).Public()
		var chain []byte
		if leaf != nil {
			chain = leaf(inter, pub, cfg.IssuerURL)
		} else {
			c, err := inter.Issue(pub, issuercert.Subject{IssuerURL: cfg.IssuerURL, Country: "UT"}, now.Add(-time.Hour), now.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			chain = issuercert.PEM(c, inter.Cert, r.Cert)
		}
		cfg.Trust.IssuerCertChain = chain
		*root = r
	}
}

// TestCredentialVerifiedByX5C: with ISSUER_CERT_CHAIN configured, the credential's header carries x5c (the leaf of
// the KMS key and the intermediate, not the root) next to kid, and @sd-jwt/sd-jwt-vc verifies it with the root
// alone (Node's X.509 validation, no JWKS); /.well-known/jwt-vc-issuer still publishes the same key under the kid.
func TestCredentialVerifiedByX5C(t *testing.T) {
	var root *issuercert.CA
	is := startIssuerLogging(t, io.Discard, withChain(t, &root, nil))
	defID := is.definition()
	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	sdjwt := is.credentialOf(link, defID)
	var out struct {
		Header      map[string]any `json:"header"`
		Payload     map[string]any `json:"payload"`
		ChainLength int            `json:"chainLength"`
	}
	testkit.RunNode(t, "@sd-jwt/sd-jwt-vc", "../interop/verify_x5c.cjs", map[string]any{"sdjwt": sdjwt,
		"rootPem": string(issuercert.PEM(root.Cert)), "now": time.Now().Unix()}, &out)
	if out.ChainLength != 2 || out.Payload["iss"] != is.url || out.Payload["given_name"] != "Erika" || out.Header["kid"] == nil {
		t.Fatalf("verified header %v payload %v chain %d", out.Header, out.Payload, out.ChainLength)
	}
	x5c, _ := out.Header["x5c"].([]any)
	if len(x5c) != 2 || x5c[1] == base64.StdEncoding.EncodeToString(root.Cert.Raw) {
		t.Fatalf("x5c %v", x5c)
	}
	jv := is.do(http.MethodGet, "/.well-known/jwt-vc-issuer", nil)
	if !strings.Contains(string(jv.raw), out.Header["kid"].(string)) {
		t.Fatalf("jwt-vc-issuer does not publish the kid: %s", jv.raw)
	}

	// Another root is not trusted.
	other, err := issuercert.NewCA("Other Root", time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if msg := nodeRefuses(t, "../interop/verify_x5c.cjs", map[string]any{"sdjwt": sdjwt,
		"rootPem": string(issuercert.PEM(other.Cert)), "now": time.Now().Unix()}); !strings.Contains(msg, "not issued") {
		t.Fatalf("against another root: %q", msg)
	}
}

// nodeRefuses runs a node script that must fail and returns what it wrote on stderr.
func nodeRefuses(t *testing.T, script string, input any) string {
	t.Helper()
	node, modules := testkit.Node(t, "@sd-jwt/sd-jwt-vc")
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := testkit.NodeCommand(ctx, node, modules, script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("%s accepted what it should refuse", script)
	}
	return stderr.String()
}

// TestChainRefusedAtColdStart: a chain of another key, an expired leaf, or one naming another host makes the
// signing functions refuse (503, nothing signed), with the reason in the log.
func TestChainRefusedAtColdStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		leaf func(ca *issuercert.CA, pub any, issuerURL string) []byte
		log  string
	}{
		{"another key", func(ca *issuercert.CA, _ any, issuerURL string) []byte {
			other, err := keys.NewLocal()
			if err != nil {
				t.Fatal(err)
			}
			c, err := ca.Issue(other.CryptoSigner(context.Background()).Public(), issuercert.Subject{IssuerURL: issuerURL}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			return issuercert.PEM(c, ca.Cert)
		}, "does not certify the signing key"},
		{"expired", func(ca *issuercert.CA, pub any, issuerURL string) []byte {
			c, err := ca.Issue(pub, issuercert.Subject{IssuerURL: issuerURL}, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			return issuercert.PEM(c, ca.Cert)
		}, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var root *issuercert.CA
			logs := &testkit.SyncBuffer{}
			is := startIssuerLogging(t, logs, withChain(t, &root, tc.leaf))
			jv := is.do(http.MethodGet, "/.well-known/jwt-vc-issuer", nil)
			if jv.status != http.StatusServiceUnavailable {
				t.Fatalf("jwt-vc-issuer with a bad chain: %d %s", jv.status, jv.raw)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Fatalf("the log does not say %q", tc.log)
			}
		})
	}
}

// TestMdocUnderTheChain: with ISSUER_CERT_CHAIN configured, an mdoc's x5chain is that chain (the KMS key's leaf
// and the intermediate) instead of a self-signed certificate, and it verifies against the root alone: by our
// verifier and by an independent one, @animo-id/mdoc given only the root (the chain, the issuer signature, the
// validity, every digest, and a DeviceResponse signed with the wallet's key against the MSO's device key).
func TestMdocUnderTheChain(t *testing.T) {
	var root *issuercert.CA
	is := startIssuerLogging(t, io.Discard, withChain(t, &root, nil))
	defID := is.formatDefinition(map[string]any{"label": "Mobile driving licence", "credentialFormat": "mso_mdoc",
		"doctype": "org.iso.18013.5.1.mDL", "claims": []any{map[string]any{"path": []any{"org.iso.18013.5.1", "given_name"}}}})
	mdl := func(country string) map[string]any {
		return map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID, "credential": map[string]any{
			"credentialSubject": map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika", "issuing_country": country}}}}
	}
	// An mDL of another country than the document signer certificate's is refused when it is issued.
	if r := is.admin(http.MethodPost, "/credential/issue", mdl("DE")); r.status != http.StatusBadRequest ||
		!strings.Contains(string(r.raw), "org.iso.18013.5.1.issuing_country") {
		t.Errorf("issuing_country DE under a UT chain: %d %s", r.status, r.raw)
	}
	_, link := is.issue(mdl("UT"))
	wallet := newHolder(t)
	credential := is.credentialFor(link, defID, wallet)
	b, err := mdoc.DecodeCredential(credential)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := mdoc.Certificates(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 2 || chain[0].Subject.CommonName != "127.0.0.1" || !chain[1].IsCA {
		t.Fatalf("x5chain of %d: %v", len(chain), chain)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	if _, err := mdoc.Verify(b, mdoc.VerifyOptions{Roots: roots, DocType: "org.iso.18013.5.1.mDL"}); err != nil {
		t.Fatalf("the mdoc does not verify against the root: %v", err)
	}
	testkit.Node(t, "@animo-id/mdoc")
	device, err := jwk.FromRaw(wallet.priv)
	if err != nil {
		t.Fatal(err)
	}
	verifyWith := func(trusted *x509.Certificate) mdocVerification {
		var out mdocVerification
		testkit.RunNode(t, "@animo-id/mdoc", interopScript(t, "mdoc_verify.cjs"), map[string]any{
			"credential": credential, "docType": "org.iso.18013.5.1.mDL",
			"trustedCertificate": base64.StdEncoding.EncodeToString(trusted.Raw),
			"devicePrivateJwk":   device, "now": time.Now().UnixMilli()}, &out)
		return out
	}
	out := verifyWith(root.Cert)
	for _, c := range out.Checks {
		if c.Status != "PASSED" {
			t.Errorf("@animo-id/mdoc with the root: %s %s: %s", c.Status, c.Check, c.Reason)
		}
	}
	if mdl := out.NameSpaces["org.iso.18013.5.1"]; len(out.Checks) < 8 || mdl["given_name"] != "Erika" ||
		!passedVerification(out, "issuing_country") {
		t.Errorf("@animo-id/mdoc: %d checks, elements %v", len(out.Checks), mdl)
	}
	// The same verifier refuses the chain under another root, so the checks above can fail.
	other, err := issuercert.NewCA("Other Root", time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !failedVerification(verifyWith(other.Cert), "Issuer certificate must be valid") {
		t.Error("@animo-id/mdoc accepted the chain under another root")
	}
}

// passedVerification reports whether the mdoc verification passed the named check.
func passedVerification(out mdocVerification, check string) bool {
	for _, c := range out.Checks {
		if c.Status == "PASSED" && strings.Contains(c.Check, check) {
			return true
		}
	}
	return false
}

// failedVerification reports whether the mdoc verification failed the named check.
func failedVerification(out mdocVerification, check string) bool {
	for _, c := range out.Checks {
		if c.Status == "FAILED" && strings.Contains(c.Check, check) {
			return true
		}
	}
	return false
}

// TestSignedIssuerMetadata: the metadata carries signed_metadata (drafts 13-15), and Accept: application/jwt gets
// the same JWT (1.0 section 12.2.2): typ openidvci-issuer-metadata+jwt, x5c of the chain, sub and iss the issuer,
// iat, exp, every metadata parameter and not signed_metadata itself; the x5c leaf verifies it.
func TestSignedIssuerMetadata(t *testing.T) {
	var root *issuercert.CA
	is := startIssuerLogging(t, io.Discard, withChain(t, &root, nil))
	md := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil)
	signed := md.str("signed_metadata")
	if md.status != http.StatusOK || signed == "" || md.header.Get("Vary") != "Accept" {
		t.Fatalf("metadata %d %v %s", md.status, md.header, md.raw)
	}
	asJWT := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil, "Accept", "application/jwt, application/json;q=0.5")
	if asJWT.status != http.StatusOK || asJWT.header.Get("Content-Type") != "application/jwt" || string(asJWT.raw) != signed {
		t.Fatalf("Accept application/jwt: %d %v %.80s", asJWT.status, asJWT.header, asJWT.raw)
	}
	if again := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil, "Accept", "application/jwt",
		"If-None-Match", asJWT.header.Get("ETag")); again.status != http.StatusNotModified {
		t.Fatalf("If-None-Match on the JWT: %d", again.status)
	}
	msg, err := jws.Parse([]byte(signed))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Type() != "openidvci-issuer-metadata+jwt" || h.X509CertChain() == nil || h.X509CertChain().Len() != 2 {
		t.Fatalf("header typ %s x5c %v", h.Type(), h.X509CertChain())
	}
	leaf := verifiedX5C(t, h.X509CertChain(), root)
	payload, err := jws.Verify([]byte(signed), jws.WithKey(jwa.ES256, leaf.PublicKey))
	if err != nil {
		t.Fatalf("the x5c leaf does not verify the signed metadata: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != is.url || claims["iss"] != is.url || claims["iat"] == nil || claims["exp"] == nil ||
		claims["credential_endpoint"] != is.url+"/credential" || claims["credential_response_encryption"] == nil {
		t.Fatalf("claims %v", claims)
	}
	if _, ok := claims["signed_metadata"]; ok {
		t.Fatal("signed_metadata inside the signed metadata")
	}
}

// TestTypeMetadata: a definition whose vct is <issuer>/vct/<name> has its type metadata served there (display,
// claims with sd and labels), its credentials carry vct#integrity over exactly those bytes, and
// @sd-jwt/sd-jwt-vc resolves it with the credential verified by x5c; a vct the issuer does not host gets no
// vct#integrity, and an unknown name is 404.
func TestTypeMetadata(t *testing.T) {
	var root *issuercert.CA
	is := startIssuerLogging(t, io.Discard, withChain(t, &root, nil))
	vct := is.url + "/vct/employee-id"
	r := is.admin(http.MethodPost, "/credential-definition", map[string]any{"label": "Employee ID", "vct": vct,
		"expirationInDays": 30, "claims": []any{
			map[string]any{"path": []any{"given_name"}, "mandatory": true, "limitDisclosure": true,
				"display": []any{map[string]any{"name": "Given name", "locale": "en"}}},
			map[string]any{"path": []any{"family_name"}}},
		"display": []any{map[string]any{"name": "Employee ID", "locale": "en", "backgroundColor": "#12107c"}}})
	if r.status != http.StatusCreated {
		t.Fatalf("definition %d %s", r.status, r.raw)
	}
	defID := r.json["credentialDefinition"].(map[string]any)["credentialDefinitionId"].(string)
	doc := is.do(http.MethodGet, "/vct/employee-id", nil)
	if doc.status != http.StatusOK || doc.str("vct") != vct || doc.str("name") != "Employee ID" || doc.header.Get("ETag") == "" {
		t.Fatalf("type metadata %d %s", doc.status, doc.raw)
	}
	claims, _ := doc.json["claims"].([]any)
	first, _ := claims[0].(map[string]any)
	if len(claims) != 2 || first["sd"] != "always" || first["mandatory"] != true || claims[1].(map[string]any)["sd"] != "never" {
		t.Fatalf("claims %v", claims)
	}
	if missing := is.do(http.MethodGet, "/vct/unknown", nil); missing.status != http.StatusNotFound {
		t.Fatalf("unknown type: %d", missing.status)
	}

	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika", "family_name": "Mustermann"}}})
	sdjwt := is.credentialOf(link, defID)
	sum := sha256.Sum256(doc.raw)
	var out struct {
		Payload      map[string]any `json:"payload"`
		TypeMetadata map[string]any `json:"typeMetadata"`
	}
	testkit.RunNode(t, "@sd-jwt/sd-jwt-vc", "../interop/verify_x5c.cjs", map[string]any{"sdjwt": sdjwt,
		"rootPem": string(issuercert.PEM(root.Cert)), "now": time.Now().Unix(), "typeMetadata": true}, &out)
	if out.Payload["vct#integrity"] != "sha256-"+base64.StdEncoding.EncodeToString(sum[:]) || out.TypeMetadata["vct"] != vct {
		t.Fatalf("vct#integrity %v, type metadata %v", out.Payload["vct#integrity"], out.TypeMetadata)
	}

	// A vct the issuer does not host: no vct#integrity.
	plain := is.definition()
	_, link = is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": plain,
		"credential": map[string]any{"credentialSubject": erika}})
	sdjwt = is.credentialOf(link, plain)
	var plainOut struct {
		Payload map[string]any `json:"payload"`
	}
	testkit.RunNode(t, "@sd-jwt/sd-jwt-vc", "../interop/verify_x5c.cjs", map[string]any{"sdjwt": sdjwt,
		"rootPem": string(issuercert.PEM(root.Cert)), "now": time.Now().Unix()}, &plainOut)
	if _, ok := plainOut.Payload["vct#integrity"]; ok || plainOut.Payload["vct"] != "PortableDocumentA1" {
		t.Fatal("vct#integrity on a vct the issuer does not host")
	}
}

// credentialOf redeems the offer of link and returns the one credential a fresh holder key gets for defID.
func (is *issuer) credentialOf(link, defID string) string {
	is.t.Helper()
	return is.credentialFor(link, defID, newHolder(is.t))
}

// credentialFor is credentialOf with the proof (and so the credential's holder binding) by h.
func (is *issuer) credentialFor(link, defID string, h holder) string {
	is.t.Helper()
	access := is.accessToken(link)
	cred := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(is.t, is.url, is.cNonce())}}})
	if cred.status != http.StatusOK {
		is.t.Fatalf("credential %d %s", cred.status, cred.raw)
	}
	return cred.json["credentials"].([]any)[0].(map[string]any)["credential"].(string)
}
