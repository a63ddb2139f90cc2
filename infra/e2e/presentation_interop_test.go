package e2e

import (
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// presentRun is the output of infra/interop/oid4vci_present.cjs.
type presentRun struct {
	Request               map[string]any `json:"request"`
	ClientIDPrefix        string         `json:"clientIdPrefix"`
	Signed                bool           `json:"signed"`
	ResponseMode          string         `json:"responseMode"`
	Answer                map[string]any `json:"answer"`
	AuthorizationResponse map[string]any `json:"authorizationResponse"`
	Error                 string         `json:"error"`
	ErrorDescription      string         `json:"errorDescription"`
	Credentials           []string       `json:"credentials"`
}

// TestPresentationWalletLibraryInterop: an independent holder built from the OpenWallet Foundation's libraries
// (@openid4vc/openid4vci and @openid4vc/oauth2 for the OID4VCI side, @openid4vc/openid4vp for the OpenID4VP
// request and response, @sd-jwt/sd-jwt-vc for the presentation, jose for the encrypted response; pinned in
// infra/node) takes a dynamic credential request offer through the running issuer: it presents an employee
// credential this issuer issued to it earlier, with the transaction data the offer carries confirmed, and gets the
// registration credential; then one from the second, test-only issuer trusted through ISSUER_TRUST_ANCHORS, also
// accepted; then one from an issuer nobody trusts, refused with access_denied and recorded.
func TestPresentationWalletLibraryInterop(t *testing.T) {
	testkit.Node(t, "@openid4vc/openid4vp")
	f := newVPFixture(t, false)
	holderKey, err := jwk.FromRaw(f.holder.priv)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		cred   func() string
		refuse string
	}{
		{"this issuer's credential", func() string { return f.own }, ""},
		{"ISSUER_TRUST_ANCHORS issuer's credential", func() string { return f.anchored.credential(t, f.holder, "ACME") }, ""},
		{"untrusted issuer's credential", func() string { return f.untrusted.credential(t, f.holder, "ACME") }, "not trusted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			exID, link, _ := f.offer(f.pdID, map[string]any{"type": "registration_fee", "amount": "25.00 EUR"})
			var run presentRun
			runNode(t, "oid4vci_present.cjs", map[string]any{"offerUri": link, "holderPrivateJwk": holderKey,
				"present": []any{map[string]any{"queryId": "employee", "sdjwt": c.cred()}}}, &run)
			if run.ClientIDPrefix != "redirect_uri" || run.Signed || run.ResponseMode != "direct_post.jwt" ||
				run.Request["dcql_query"] == nil || run.Request["transaction_data"] == nil {
				t.Fatalf("the library resolved the request: prefix %q signed %v mode %q transaction_data %v", run.ClientIDPrefix, run.Signed, run.ResponseMode, run.Request["transaction_data"])
			}
			rec := f.is.history(exID)
			if c.refuse != "" {
				failure, _ := rec["presentationFailure"].(map[string]any)
				if run.Error != "access_denied" || !strings.Contains(run.ErrorDescription, c.refuse) || len(run.Credentials) != 0 ||
					failure == nil || rec["presentationExchangeId"] != "" {
					t.Fatalf("refusal: run %+v record %v", run, rec)
				}
				return
			}
			if run.Error != "" || run.AuthorizationResponse["code"] == nil || len(run.Credentials) != 1 {
				t.Fatalf("run %+v", run)
			}
			v, err := sdjwt.Verify(run.Credentials[0], sdjwt.WithIssuerKeySet(jwksOf(t, f.is)))
			if err != nil || v.Claims["company"] != "ACME Holding" {
				t.Fatalf("credential: %v %v", err, v)
			}
			holder, _ := rec["holder"].(map[string]any)
			claims, _ := holder["presentedClaims"].(map[string]any)
			list, _ := claims["employee"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["employer"] != "ACME" || rec["presentationExchangeId"] == "" ||
				rec["status"] != "credential_issued" {
				t.Fatalf("record %v", rec)
			}
		})
	}
}

// TestPresentationWalletLibrarySignedRequest: when the issuer's key is certified for its host, @openid4vc/openid4vp
// resolves the request object by value under x509_san_dns (signature checked with the x5c leaf, the leaf's DNS
// SAN against the response_uri's host), the holder presents this issuer's credential, and gets the new one.
func TestPresentationWalletLibrarySignedRequest(t *testing.T) {
	testkit.Node(t, "@openid4vc/openid4vp")
	var root *issuercert.CA
	f := newVPFixture(t, false, onLocalhost, withChain(t, &root, nil))
	holderKey, err := jwk.FromRaw(f.holder.priv)
	if err != nil {
		t.Fatal(err)
	}
	_, link, _ := f.offer(f.pdID, map[string]any{"type": "registration_fee", "amount": "25.00 EUR"})
	var run presentRun
	runNode(t, "oid4vci_present.cjs", map[string]any{"offerUri": link, "holderPrivateJwk": holderKey,
		"present": []any{map[string]any{"queryId": "employee", "sdjwt": f.own}}}, &run)
	if run.ClientIDPrefix != "x509_san_dns" || !run.Signed || run.ResponseMode != "direct_post.jwt" || run.Error != "" ||
		len(run.Credentials) != 1 {
		t.Fatalf("run: prefix %q signed %v mode %q error %q %q credentials %d", run.ClientIDPrefix, run.Signed,
			run.ResponseMode, run.Error, run.ErrorDescription, len(run.Credentials))
	}
}
