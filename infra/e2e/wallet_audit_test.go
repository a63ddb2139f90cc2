package e2e

import (
	"net/http"
	"testing"
)

// grantOf returns the pre-authorized code grant of an offer answer.
func grantOf(t *testing.T, offer *response) map[string]any {
	t.Helper()
	grants, _ := offer.json["grants"].(map[string]any)
	g, _ := grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	if g == nil {
		t.Fatalf("offer without a pre-authorized code grant: %d %s", offer.status, offer.raw)
	}
	return g
}

// TestMetadataListsAConfigurationOfferedAfterItWasCached: a wallet that redeems an offer for a definition created
// after the container cached its metadata (the organisation creates a definition and issues at once) finds the
// offered configuration in the metadata it fetches next, for definitions and for offers without one.
func TestMetadataListsAConfigurationOfferedAfterItWasCached(t *testing.T) {
	is := startIssuer(t)
	is.definition()
	if r := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil); r.status != http.StatusOK {
		t.Fatalf("metadata %d %s", r.status, r.raw) // now cached in the container
	}
	fresh := is.admin(http.MethodPost, "/credential-definition", map[string]any{
		"label": "Employee ID", "credentialFormat": "dc+sd-jwt", "vct": "EmployeeID", "expirationInDays": 365,
		"claims": []any{map[string]any{"path": []any{"given_name"}, "limitDisclosure": true}}})
	if fresh.status != http.StatusOK && fresh.status != http.StatusCreated {
		t.Fatalf("create definition: %d %s", fresh.status, fresh.raw)
	}
	freshID, _ := fresh.json["credentialDefinition"].(map[string]any)["credentialDefinitionId"].(string)
	tests := []struct {
		name  string
		issue map[string]any
	}{
		{name: "definition created after the metadata was cached", issue: map[string]any{"issuanceMode": "InTime",
			"credentialDefinitionId": freshID, "credential": map[string]any{"credentialSubject": erika}}},
		{name: "offer without a definition", issue: map[string]any{"issuanceMode": "InTime",
			"credential": map[string]any{"type": []any{"VerifiableCredential", "BadgeCredential"},
				"credentialSubject": map[string]any{"given_name": "Erika"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, link := is.issue(tc.issue)
			offer := is.do(http.MethodGet, offerURI(t, link), nil)
			ids, _ := offer.json["credential_configuration_ids"].([]any)
			if offer.status != http.StatusOK || len(ids) != 1 {
				t.Fatalf("offer %d %s", offer.status, offer.raw)
			}
			md := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil)
			configs, _ := md.json["credential_configurations_supported"].(map[string]any)
			if _, ok := configs[ids[0].(string)]; !ok {
				t.Fatalf("the metadata lacks the offered configuration %v: %s", ids[0], md.raw)
			}
		})
	}
}
