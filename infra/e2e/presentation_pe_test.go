package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// peDefinition creates a DIF Presentation Exchange 2.0 presentation definition through the admin API: one input
// descriptor "employee" asking for an SD-JWT VC of the fixture's own vct whose employer is employer.
func (f *vpFixture) peDefinition(employer string) string {
	f.t.Helper()
	def := map[string]any{"id": "employment", "input_descriptors": []any{map[string]any{"id": "employee",
		"format": map[string]any{"vc+sd-jwt": map[string]any{}},
		"constraints": map[string]any{"limit_disclosure": "required", "fields": []any{
			map[string]any{"path": []any{"$.vct"}, "filter": map[string]any{"type": "string", "const": f.ownVCT}},
			map[string]any{"path": []any{"$.employer"}, "filter": map[string]any{"type": "string", "const": employer}}}}}}}
	r := f.is.admin(http.MethodPost, "/presentation-definition", map[string]any{"label": "Employee of " + employer + " (PE)",
		"presentationDefinition": def})
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		f.t.Fatalf("create presentation definition: %d %s", r.status, r.raw)
	}
	return r.json["presentationDefinition"].(map[string]any)["presentationDefinitionId"].(string)
}

// postPE answers a presentation_definition request as a draft wallet does: vp_token the presentation itself (a
// string) or an array of them, with its presentation_submission, encrypted to client_metadata.jwks.
func (s *vpSession) postPE(vpToken any, submission map[string]any) *response {
	s.f.t.Helper()
	payload, _ := json.Marshal(map[string]any{"state": s.state, "vp_token": vpToken, "presentation_submission": submission})
	return s.f.is.postForm(strings.TrimPrefix(s.responseURI, s.f.is.url), map[string][]string{"response": {s.encrypt(payload)}})
}

// TestPresentationExchangeOverHTTP: a dynamic credential request whose presentation definition is a DIF
// Presentation Exchange 2.0 definition (created through the admin API) sends the wallet presentation_definition
// (no dcql_query); a draft wallet answers with the SD-JWT VC this issuer issued earlier as vp_token (the
// presentation, or an array of it) and a presentation_submission mapping it to the input descriptor, and gets
// the code, the token and the credential,
// the record showing the presented claims under the descriptor's id. A submission that does not satisfy the
// definition (the credential's employer is not the one the filter asks for; a descriptor_map naming no input
// descriptor of it) is access_denied saying so, recorded as presentationFailure, and issues nothing.
func TestPresentationExchangeOverHTTP(t *testing.T) {
	f := newVPFixture(t, false)
	acme := f.peDefinition("ACME")
	present := func(s *vpSession) string {
		p, err := sdjwt.Present(f.own, func(sdjwt.Disclosure) bool { return true },
			&sdjwt.KeyBindingInput{Key: f.holder.priv, Audience: s.clientID, Nonce: s.nonce, IssuedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	submission := func(descriptor string) map[string]any {
		return map[string]any{"id": "submission-1", "definition_id": "employment", "descriptor_map": []any{
			map[string]any{"id": descriptor, "format": "vc+sd-jwt", "path": "$"}}}
	}

	t.Run("satisfied, vp_token an array", func(t *testing.T) {
		_, _, issuerState := f.offer(acme, nil)
		s := f.begin(issuerState)
		sub := submission("employee")
		sub["descriptor_map"].([]any)[0].(map[string]any)["path"] = "$[0]"
		if q := s.answer(s.postPE([]string{present(s)}, sub)); q.Get("code") == "" {
			t.Fatalf("no code: %v", q)
		}
	})

	t.Run("satisfied", func(t *testing.T) {
		exID, _, issuerState := f.offer(acme, nil)
		s := f.begin(issuerState)
		pd, _ := s.params["presentation_definition"].(map[string]any)
		if pd["id"] != "employment" || s.params["dcql_query"] != nil || s.responseMode != "direct_post.jwt" {
			t.Fatalf("OpenID4VP request for a Presentation Exchange definition: %v", s.params)
		}
		q := s.answer(s.postPE(present(s), submission("employee")))
		if q.Get("code") == "" {
			t.Fatalf("no code: %v", q)
		}
		if cred := f.redeem(q.Get("code")); cred == "" {
			t.Fatal("no credential")
		}
		rec := f.is.history(exID)
		holder, _ := rec["holder"].(map[string]any)
		claims, _ := holder["presentedClaims"].(map[string]any)
		list, _ := claims["employee"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["employer"] != "ACME" || rec["presentationDefinitionId"] != acme ||
			rec["presentationExchangeId"] == "" || rec["status"] != "credential_issued" {
			t.Fatalf("record %v", rec)
		}
	})

	umbrella := f.peDefinition("Umbrella")
	for _, c := range []struct {
		name, pd, descriptor, reason string
	}{
		{"filter not satisfied", umbrella, "employee", "field fields[1] is not disclosed with a value its filter accepts"},
		{"descriptor not in the definition", acme, "manager", "names an input descriptor the definition does not have"},
	} {
		t.Run(c.name, func(t *testing.T) {
			exID, _, issuerState := f.offer(c.pd, nil)
			s := f.begin(issuerState)
			s.refused(s.postPE(present(s), submission(c.descriptor)), exID, c.reason, "ACME")
		})
	}
}
