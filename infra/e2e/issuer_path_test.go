package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// TestIssuerURLWithPath plays a wallet against an issuer whose identifier has a path (http://ADDR/stage, the shape
// of an API Gateway stage URL), served by the local gateway the way API Gateway serves a stage. The wallet uses no
// URL it did not discover: the offer names the issuer, the metadata is fetched both where OID4VCI 1.0 section
// 12.2.2 puts it (path-inserted, /.well-known/openid-credential-issuer/stage) and where draft wallets append it,
// the AS and JWT VC issuer metadata come path-inserted (RFC 8414 section 3, SD-JWT VC), and every endpoint is
// taken from them. Requests outside the path are not the issuer's.
func TestIssuerURLWithPath(t *testing.T) {
	is := startIssuerWith(t, io.Discard, "/stage")
	host := strings.TrimSuffix(is.url, "/stage")
	if host == is.url {
		t.Fatalf("issuer URL %q has no /stage path", is.url)
	}
	defID := is.revocableDefinition()
	exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})

	ref := offerURI(t, link)
	if !strings.HasPrefix(ref, is.url+"/credential-offer/") {
		t.Fatalf("credential_offer_uri %q is not under the issuer URL %s", ref, is.url)
	}
	offer := is.do(http.MethodGet, ref, nil)
	if offer.status != http.StatusOK || offer.str("credential_issuer") != is.url {
		t.Fatalf("offer: %d %s", offer.status, offer.raw)
	}
	grant, _ := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	code, _ := grant["pre-authorized_code"].(string)

	// The credential issuer metadata: path-inserted and appended, the same document.
	inserted := wellKnown(t, is, oid4vci.WellKnownCredentialIssuer)
	if want := host + "/.well-known/openid-credential-issuer/stage"; inserted.url != want {
		t.Fatalf("path-inserted metadata URL %s, want %s", inserted.url, want)
	}
	appended := is.do(http.MethodGet, is.url+"/.well-known/openid-credential-issuer", nil)
	md := inserted.response
	if md.status != http.StatusOK || appended.status != http.StatusOK || string(md.raw) != string(appended.raw) {
		t.Fatalf("metadata: path-inserted %d, appended %d, same document %v: %s", md.status, appended.status,
			string(md.raw) == string(appended.raw), md.raw)
	}
	if md.str("credential_issuer") != is.url {
		t.Fatalf("credential_issuer %q, want %q", md.str("credential_issuer"), is.url)
	}
	for _, name := range []string{"credential_endpoint", "nonce_endpoint", "deferred_credential_endpoint", "notification_endpoint"} {
		if ep := md.str(name); !strings.HasPrefix(ep, is.url+"/") {
			t.Errorf("%s %q is not under the issuer URL %s", name, ep, is.url)
		}
	}
	as := wellKnown(t, is, oid4vci.WellKnownAuthorizationServer).response
	if as.status != http.StatusOK || as.str("issuer") != is.url || !strings.HasPrefix(as.str("token_endpoint"), is.url+"/") {
		t.Fatalf("AS metadata %d %s", as.status, as.raw)
	}
	jv := wellKnown(t, is, oid4vci.WellKnownJWTVCIssuer).response
	if jv.status != http.StatusOK || jv.str("issuer") != is.url {
		t.Fatalf("jwt-vc-issuer %d %s", jv.status, jv.raw)
	}
	jwks := jwksIn(t, jv)

	// The flow through the discovered endpoints.
	tok := is.postForm(as.str("token_endpoint"), url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"},
		"pre-authorized_code": {code}})
	if tok.status != http.StatusOK {
		t.Fatalf("token %d %s", tok.status, tok.raw)
	}
	nonce := is.do(http.MethodPost, md.str("nonce_endpoint"), nil)
	if nonce.status != http.StatusOK {
		t.Fatalf("nonce %d %s", nonce.status, nonce.raw)
	}
	h := newHolder(t)
	cred := is.postJSON(md.str("credential_endpoint"), tok.str("access_token"), map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(t, md.str("credential_issuer"), nonce.str("c_nonce"))}}})
	if cred.status != http.StatusOK {
		t.Fatalf("credential %d %s", cred.status, cred.raw)
	}
	c, _ := cred.json["credentials"].([]any)[0].(map[string]any)["credential"].(string)
	v, err := sdjwt.Verify(c, sdjwt.WithIssuerKeySet(jwks))
	if err != nil {
		t.Fatal(err)
	}
	if v.Claims["iss"] != is.url {
		t.Errorf("credential iss %v, want %s", v.Claims["iss"], is.url)
	}
	status, _ := v.Claims["status"].(map[string]any)
	list, _ := status["status_list"].(map[string]any)
	uri, _ := list["uri"].(string)
	if !strings.HasPrefix(uri, is.url+"/status-lists/") {
		t.Fatalf("status list uri %q is not under the issuer URL (status %v)", uri, v.Claims["status"])
	}
	if sl := is.do(http.MethodGet, uri, nil, "Accept", "application/statuslist+jwt"); sl.status != http.StatusOK {
		t.Errorf("status list %s: %d %s", uri, sl.status, sl.raw)
	}
	note := is.postJSON(md.str("notification_endpoint"), tok.str("access_token"),
		map[string]any{"notification_id": cred.str("notification_id"), "event": "credential_accepted"})
	if note.status != http.StatusNoContent {
		t.Fatalf("notification %d %s", note.status, note.raw)
	}
	if s := is.history(exID)["status"]; s != "credential_accepted" {
		t.Errorf("status %v", s)
	}

	// Outside the issuer's path: the host's own well-known document, another issuer's path-inserted location and
	// the endpoints without the path are not this issuer's.
	for _, u := range []string{host + "/.well-known/openid-credential-issuer", host + "/.well-known/openid-credential-issuer/other",
		host + "/.well-known/jwt-vc-issuer", host + "/token", host + "/credential-offer/x", host + adminBase + "/credential-definitions"} {
		if r := is.do(http.MethodGet, u, nil); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", u, r.status)
		}
	}
}

// discovered is a response and the URL it was fetched from.
type discovered struct {
	url      string
	response *response
}

// wellKnown fetches the issuer's well-known document name where OID4VCI 1.0, RFC 8414 and SD-JWT VC put it:
// /.well-known/<name> inserted between the host and the issuer URL's path.
func wellKnown(t *testing.T, is *issuer, name string) discovered {
	t.Helper()
	u, err := oid4vci.WellKnownURL(is.url, name)
	if err != nil {
		t.Fatal(err)
	}
	return discovered{url: u, response: is.do(http.MethodGet, u, nil)}
}
