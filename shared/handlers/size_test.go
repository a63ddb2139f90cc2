package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
)

// TestOversizedDataOverDynamoDB: against DynamoDB Local, the largest exchange data the API accepts, under the
// largest definition it accepts, is stored (the record fits one item), and anything larger is a 413 naming the
// field that leaves nothing behind, never a 500 from the store.
func TestOversizedDataOverDynamoDB(t *testing.T) {
	a := newAPI(t)
	// A definition just under definition.MaxBytes: 120 claims with long display names in several locales.
	claims := make([]map[string]any, 0, 120)
	for i := 0; len(claims) < 120; i++ {
		var display []map[string]any
		for j := 0; j < 4; j++ {
			display = append(display, map[string]any{"name": strings.Repeat("n", 90), "locale": fmt.Sprintf("l%d", j)})
		}
		claims = append(claims, map[string]any{"path": []any{fmt.Sprintf("claim_%03d", i)}, "limitDisclosure": true, "display": display})
	}
	spec := map[string]any{"label": "Big", "vct": "Big", "expirationInDays": 30, "claims": claims}
	body, _ := json.Marshal(spec)
	r := a.do(call{method: "POST", path: base + "/credential-definition", body: string(body)})
	if r.status != http.StatusCreated {
		t.Fatalf("definition of %d bytes: %d %s", len(body), r.status, r.body)
	}
	var def struct {
		CredentialDefinition definition.Definition `json:"credentialDefinition"`
	}
	r.json(t, &def)
	if n, _ := json.Marshal(def.CredentialDefinition.Spec); len(n) < definition.MaxBytes*9/10 {
		t.Fatalf("test definition is %d bytes, want close to %d", len(n), definition.MaxBytes)
	}

	payload := func(n int) string { // a credential element whose CredentialPayload JSON is n bytes
		pad := n - len(`{"credentialSubject":{"photo":""},"credentialMetadata":null}`)
		return `{"credentialSubject": {"photo": "` + strings.Repeat("p", pad) + `"}}`
	}
	issue := func(credential string) reply {
		return a.do(call{method: "POST", path: base + "/credential/issue", body: `{"issuanceMode": "InTime",
			"credentialDefinitionId": "` + def.CredentialDefinition.ID + `", "credential": ` + credential + `}`})
	}
	tests := []struct {
		name   string
		data   int
		status int
	}{
		{"at the limit", admin.MaxCredentialDataBytes, http.StatusOK},
		{"one byte over", admin.MaxCredentialDataBytes + 1, http.StatusRequestEntityTooLarge},
		{"far over, within the body limit", 200 << 10, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.do(call{method: "GET", path: base + "/credential/history"})
			r := issue(payload(tt.data))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tt.status, r.body)
			}
			if tt.status == http.StatusOK {
				return
			}
			var e struct {
				ErrorCode        int    `json:"errorCode"`
				ErrorDescription string `json:"errorDescription"`
			}
			r.json(t, &e)
			if e.ErrorCode != 413 || !strings.HasPrefix(e.ErrorDescription, "credential: ") || strings.Contains(e.ErrorDescription, "ppp") {
				t.Fatalf("error %+v does not name the field, or quotes the data", e)
			}
			if after := a.do(call{method: "GET", path: base + "/credential/history"}); after.body != before.body {
				t.Fatal("a refused issue changed the history")
			}
		})
	}

	// A definition over the limit is refused as such.
	for i := range claims {
		claims[i]["display"] = append(claims[i]["display"].([]map[string]any), map[string]any{"name": strings.Repeat("m", 200), "locale": "de"})
	}
	body, _ = json.Marshal(spec)
	if r := a.do(call{method: "POST", path: base + "/credential-definition", body: string(body)}); r.status != 413 ||
		!strings.Contains(r.body, `"claims: `) {
		t.Fatalf("definition of %d bytes: %d %s", len(body), r.status, r.body)
	}
}

// TestDeferredCompletionOversized: the deferred completion answers the same 413 for the same fields.
func TestDeferredCompletionOversized(t *testing.T) {
	a := newAPI(t)
	def := a.createDefinition()
	rec := a.issue(`{"issuanceMode": "Deferred", "credentialDefinitionId": "` + def.ID + `"}`)
	id := rec["credentialExchangeId"].(string)
	big := strings.Repeat("p", admin.MaxCredentialDataBytes)
	r := a.do(call{method: "PUT", path: base + "/credential/history/" + id,
		body: `{"credentials": [{"credentialSubject": {"given_name": "` + big + `"}}]}`})
	if r.status != 413 || !strings.Contains(r.body, `"credentials: `) {
		t.Fatalf("oversized completion: %d %.300s", r.status, r.body)
	}
	if h := a.do(call{method: "GET", path: base + "/credential/history/" + id}); !strings.Contains(h.body, `"credentialStatus":"pending"`) {
		t.Fatalf("a refused completion changed the record: %.300s", h.body)
	}
}
