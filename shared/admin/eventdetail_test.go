package admin_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
)

// TestStatusEventsCarryNoRedeemableOffer: the offer deep link holds the offer id, from which the pre-authorized
// code is derived, so whoever reads an event could redeem the offer. Events (EventBridge subscribers, archives,
// their logs) get neither the link, nor the offer id, nor the code, nor the PIN, nor claim values.
func TestStatusEventsCarryNoRedeemableOffer(t *testing.T) {
	tests := []struct {
		name string
		req  func(defID string) admin.IssueRequest
	}{
		{"in time with pin", func(defID string) admin.IssueRequest {
			return admin.IssueRequest{IssuanceMode: "InTime", UserPin: "4821", CredentialDefinitionID: defID,
				Credential: &admin.CredentialInput{CredentialSubject: subject()}}
		}},
		{"deferred haip", func(defID string) admin.IssueRequest {
			return admin.IssueRequest{IssuanceMode: "Deferred", CredentialDefinitionID: defID, URLScheme: "haip://"}
		}},
		{"dynamic", func(string) admin.IssueRequest {
			return admin.IssueRequest{IssuanceMode: "InTime", Credential: &admin.CredentialInput{
				Type: "Badge", CredentialSubject: subject()}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rec, err := e.svc.IssueCredential(context.Background(), tt.req(e.def.ID))
			if err != nil {
				t.Fatal(err)
			}
			offerID, err := exchange.OfferIDFromDeepLink(rec.CredentialOffer)
			if err != nil || offerID == "" {
				t.Fatalf("offer id of %q: %v", rec.CredentialOffer, err)
			}
			if len(e.events.All()) != 1 {
				t.Fatalf("%d events, want 1", len(e.events.All()))
			}
			ev := e.events.All()[0]
			detail, err := json.Marshal(historyrecord.EventOf(&ev)) // as the publisher publishes it
			if err != nil {
				t.Fatal(err)
			}
			for name, secret := range map[string]string{"offer id": offerID,
				"pre-authorized code": exchange.PreAuthorizedCode(offerID), "claim value": "Mustermann"} {
				if strings.Contains(string(detail), secret) {
					t.Errorf("event detail carries the %s", name)
				}
			}
			var fields map[string]any
			if err := json.Unmarshal(detail, &fields); err != nil {
				t.Fatal(err)
			}
			if v, ok := fields["credentialOffer"]; !ok || v != "" {
				t.Errorf("credentialOffer in the event detail = %v, want present and empty", v)
			}
			if ev.Detail.CredentialExchangeID != rec.CredentialExchangeID || ev.Detail.Status != exchange.StatusOfferSent {
				t.Errorf("event detail lost the exchange id or status: %+v", ev.Detail)
			}
		})
	}
}
