package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

// revocableDefinition creates a definition with supportRevocation and returns its id.
func (is *issuer) revocableDefinition() string {
	is.t.Helper()
	r := is.admin(http.MethodPost, "/credential-definition", map[string]any{
		"label": "Revocable Licence", "credentialFormat": "dc+sd-jwt", "vct": "RevocableLicence",
		"expirationInDays": 30, "supportRevocation": true, "claims": []any{
			map[string]any{"path": []any{"given_name"}, "mandatory": true, "limitDisclosure": true},
		}, "display": []any{map[string]any{"name": "Revocable Licence", "locale": "en-GB"}}})
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		is.t.Fatalf("create definition: %d %s", r.status, r.raw)
	}
	def, _ := r.json["credentialDefinition"].(map[string]any)
	id, _ := def["credentialDefinitionId"].(string)
	return id
}

// walletIssue runs the pre-authorized flow for an offer without tx_code, asking for one credential per holder,
// and returns the credentials' status references verified with the issuer's published keys.
func (is *issuer) walletIssue(t *testing.T, defID, link string, holders int) ([]statuslist.Reference, jwk.Set) {
	t.Helper()
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	if offer.status != http.StatusOK {
		t.Fatalf("offer: %d %s", offer.status, offer.raw)
	}
	grant, _ := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	code, _ := grant["pre-authorized_code"].(string)
	tok := is.postForm("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"},
		"pre-authorized_code": {code}})
	if tok.status != http.StatusOK {
		t.Fatalf("token: %d %s", tok.status, tok.raw)
	}
	nonce := is.do(http.MethodPost, "/nonce", nil)
	proofs := make([]string, holders)
	for i := range proofs {
		proofs[i] = newHolder(t).proof(t, is.url, nonce.str("c_nonce"))
	}
	cred := is.postJSON("/credential", tok.str("access_token"), map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": proofs}})
	if cred.status != http.StatusOK {
		t.Fatalf("credential: %d %s", cred.status, cred.raw)
	}
	jv := is.do(http.MethodGet, "/.well-known/jwt-vc-issuer", nil)
	jwksRaw, _ := json.Marshal(jv.json["jwks"])
	jwks, err := jwk.Parse(jwksRaw)
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := cred.json["credentials"].([]any)
	if len(creds) != holders {
		t.Fatalf("%d credentials, want %d: %s", len(creds), holders, cred.raw)
	}
	refs := make([]statuslist.Reference, len(creds))
	for i, c := range creds {
		s, _ := c.(map[string]any)["credential"].(string)
		v, err := sdjwt.Verify(s, sdjwt.WithIssuerKeySet(jwks))
		if err != nil {
			t.Fatalf("credential %d: %v", i, err)
		}
		raw, _ := json.Marshal(v.Claims["status"])
		if err := json.Unmarshal(raw, &refs[i]); err != nil {
			t.Fatalf("credential %d status claim %s: %v", i, raw, err)
		}
		if !strings.HasPrefix(refs[i].URI, is.url+"/status-lists/") {
			t.Fatalf("credential %d status uri %s is not under the issuer", i, refs[i].URI)
		}
	}
	return refs, jwks
}

// fetchStatuses fetches each reference's status list token over HTTP, checks the response and the token as a
// relying party does, and returns the statuses (and the last token with its verification key).
func (is *issuer) fetchStatuses(t *testing.T, refs []statuslist.Reference, jwks jwk.Set) ([]statuslist.Status, string, jwk.Key) {
	t.Helper()
	out := make([]statuslist.Status, len(refs))
	var token string
	var key jwk.Key
	for i, ref := range refs {
		r := is.do(http.MethodGet, ref.URI, nil)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != statuslist.MediaType ||
			!strings.HasPrefix(r.header.Get("Cache-Control"), "public, max-age=") || r.header.Get("ETag") == "" {
			t.Fatalf("GET %s: %d %v %s", ref.URI, r.status, r.header, r.raw)
		}
		if again := is.do(http.MethodGet, ref.URI, nil, "If-None-Match", r.header.Get("ETag")); again.status != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", again.status)
		}
		token = string(r.raw)
		kid := jwtHeader(t, token)["kid"]
		k, ok := jwks.LookupKeyID(kid)
		if !ok {
			t.Fatalf("status list token kid %q is not in the issuer's jwks", kid)
		}
		key = k
		v, err := statuslist.VerifyToken(token, k, statuslist.VerifyOptions{URI: ref.URI, Now: time.Now(),
			Leeway: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if v.Claims.Issuer != is.url || v.List.Bits() != 2 || v.Claims.TTL <= 0 || v.Claims.ExpiresAt <= v.Claims.IssuedAt {
			t.Fatalf("token claims %+v", v.Claims)
		}
		if out[i], err = v.Status(ref); err != nil {
			t.Fatal(err)
		}
	}
	return out, token, key
}

func jwtHeader(t *testing.T, token string) map[string]string {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	var hdr map[string]string
	raw, err := base64URLDecode(h)
	if err != nil || json.Unmarshal(raw, &hdr) != nil {
		t.Fatalf("token header %q", h)
	}
	return hdr
}

func TestRevocationThroughStatusList(t *testing.T) {
	is := startIssuer(t)
	defID := is.revocableDefinition()
	exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	refs, jwks := is.walletIssue(t, defID, link, 2)
	if refs[0] == refs[1] {
		t.Fatal("the two credentials of the batch share a status entry")
	}
	other, otherLink := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Max"}}})
	otherRefs, _ := is.walletIssue(t, defID, otherLink, 1)
	if h := is.history(exID); h["revocationStatus"] != "Operational" || h["supportRevocation"] != true {
		t.Fatalf("issued record: revocationStatus %v", h["revocationStatus"])
	}

	steps := []struct {
		name       string
		to         string
		wantStatus int
		want       statuslist.Status
		wantRecord string
		wantText   string
	}{
		{"initially valid", "", 0, statuslist.Valid, "Operational", ""},
		{"suspend", "Suspended", http.StatusOK, statuslist.Suspended, "Suspended", ""},
		{"reinstate", "Operational", http.StatusOK, statuslist.Valid, "Operational", ""},
		{"revoke", "Revoked", http.StatusOK, statuslist.Invalid, "Revoked", ""},
		{"revoked is final", "Operational", http.StatusConflict, statuslist.Invalid, "Revoked", "final"},
		{"unknown status", "Deleted", http.StatusBadRequest, statuslist.Invalid, "Revoked", "revocationStatus"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.to != "" {
				r := is.admin(http.MethodPut, "/credential/history/"+exID+"/revocation-status",
					map[string]any{"revocationStatus": s.to})
				if r.status != s.wantStatus || !strings.Contains(string(r.raw), s.wantText) {
					t.Fatalf("PUT revocation-status %s: %d %s", s.to, r.status, r.raw)
				}
			}
			if got := is.history(exID)["revocationStatus"]; got != s.wantRecord {
				t.Fatalf("record revocationStatus %v, want %s", got, s.wantRecord)
			}
			got, token, key := is.fetchStatuses(t, refs, jwks)
			for i, st := range got {
				if st != s.want {
					t.Fatalf("credential %d: status %s, want %s", i, st, s.want)
				}
			}
			if st, _, _ := is.fetchStatuses(t, otherRefs, jwks); st[0] != statuslist.Valid {
				t.Fatalf("another exchange's credential is %s", st[0])
			}
			is.independentlyReads(t, token, key, refs, s.want)
		})
	}
	if h := is.history(other); h["revocationStatus"] != "Operational" {
		t.Fatalf("other record: %v", h["revocationStatus"])
	}
}

// independentlyReads checks with @sd-jwt/jwt-status-list (infra/interop/statuslist_read.cjs) that the token's
// signature verifies and that the entries of the references in this token's list have status want.
func (is *issuer) independentlyReads(t *testing.T, token string, key jwk.Key, refs []statuslist.Reference, want statuslist.Status) {
	t.Helper()
	sub := ""
	if _, p, ok := strings.Cut(token, "."); ok {
		p, _, _ = strings.Cut(p, ".")
		raw, _ := base64URLDecode(p)
		var claims struct {
			Sub string `json:"sub"`
		}
		_ = json.Unmarshal(raw, &claims)
		sub = claims.Sub
	}
	var idx []int
	for _, r := range refs {
		if r.URI == sub {
			idx = append(idx, r.Idx)
		}
	}
	if len(idx) == 0 {
		t.Fatalf("no reference points at the token's sub %q", sub)
	}
	pub, err := json.Marshal(key)
	if err != nil {
		t.Fatal(err)
	}
	var jwkMap map[string]any
	if err := json.Unmarshal(pub, &jwkMap); err != nil {
		t.Fatal(err)
	}
	var out struct {
		SignatureValid bool  `json:"signatureValid"`
		Bits           int   `json:"bits"`
		Statuses       []int `json:"statuses"`
	}
	runNode(t, "statuslist_read.cjs", map[string]any{"token": token, "jwk": jwkMap, "indexes": idx}, &out)
	if !out.SignatureValid || out.Bits != 2 {
		t.Fatalf("@sd-jwt/jwt-status-list: signature valid %v, bits %d", out.SignatureValid, out.Bits)
	}
	for i, st := range out.Statuses {
		if statuslist.Status(st) != want {
			t.Fatalf("@sd-jwt/jwt-status-list reads idx %d as %d, want %d", idx[i], st, want)
		}
	}
}

func TestRevocationRefusedOverHTTP(t *testing.T) {
	is := startIssuer(t)
	plain := is.definition()
	revocable := is.revocableDefinition()
	noRevocation, _ := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": plain,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	notIssued, _ := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": revocable,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	tests := []struct {
		name, id   string
		body       any
		wantStatus int
		wantText   string
	}{
		{"definition without revocation", noRevocation, map[string]any{"revocationStatus": "Revoked"}, http.StatusBadRequest, "does not support revocation"},
		{"nothing issued yet", notIssued, map[string]any{"revocationStatus": "Suspended"}, http.StatusConflict, "no credential"},
		{"unknown exchange", "nope", map[string]any{"revocationStatus": "Revoked"}, http.StatusNotFound, "not found"},
		{"missing field", notIssued, map[string]any{}, http.StatusBadRequest, "revocationStatus"},
		{"unknown list", "", nil, http.StatusNotFound, "no such status list"},
		{"malformed list id", "", nil, http.StatusNotFound, "no such status list"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *response
			switch {
			case tt.body != nil:
				r = is.admin(http.MethodPut, "/credential/history/"+tt.id+"/revocation-status", tt.body)
			case i == 4:
				r = is.do(http.MethodGet, "/status-lists/0-7", nil)
			default:
				r = is.do(http.MethodGet, "/status-lists/x..y", nil)
			}
			if r.status != tt.wantStatus || !strings.Contains(string(r.raw), tt.wantText) {
				t.Fatalf("%d %s, want %d containing %q", r.status, r.raw, tt.wantStatus, tt.wantText)
			}
		})
	}
}

func base64URLDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
