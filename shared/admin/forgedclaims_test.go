package admin_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// forgedSubjects are claim trees carrying the SD-JWT structural names below (and at) the top level, each with the
// path the refusal must name. Whoever controls such a value upstream plants the digest of a disclosure they made
// and attaches it; a verifier would then take it as issuer-signed (docs/security.md, "Forged claims").
func forgedSubjects() []struct {
	name    string
	subject map[string]any
	path    string
} {
	digest := "Qg1cM4D8Lsi2b2R5WgFPk9tWkI0aaGE9Uoy8M2IlMFU"
	return []struct {
		name    string
		subject map[string]any
		path    string
	}{
		{"_sd in a nested object", map[string]any{"given_name": "E", "address": map[string]any{"_sd": []any{digest}}}, "address._sd"},
		{"... in an array of objects", map[string]any{"given_name": "E", "roles": []any{map[string]any{"...": digest}}}, "roles[0]...."},
		{"_sd_alg nested", map[string]any{"given_name": "E", "x": map[string]any{"_sd_alg": "sha-256"}}, "x._sd_alg"},
		{"_sd at depth 3 inside arrays of objects", map[string]any{"given_name": "E", "a": []any{map[string]any{"b": []any{
			"plain", map[string]any{"c": map[string]any{"_sd": []any{digest}}}}}}}, "a[0].b[1].c._sd"},
		{"... inside nested arrays", map[string]any{"given_name": "E", "m": []any{[]any{[]any{map[string]any{"...": digest}}}}}, "m[0][0][0]...."},
		{"_sd at the top level", map[string]any{"given_name": "E", "_sd": []any{digest}}, "_sd"},
		{"... at the top level", map[string]any{"given_name": "E", "...": digest}, "..."},
	}
}

// TestForgedStructuralClaimsRefusedAtIntake: on every path claims enter (issue with and without a definition,
// credentials[], the deferred PUT and event, which share ApplyDeferred), a structural name at any depth is a
// validation error naming the path, and nothing is stored or changed.
func TestForgedStructuralClaimsRefusedAtIntake(t *testing.T) {
	ctx := context.Background()
	for _, f := range forgedSubjects() {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t)
			requests := map[string]struct {
				req   admin.IssueRequest
				field string
			}{
				"with definition": {admin.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: e.def.ID,
					Credential: &admin.CredentialInput{CredentialSubject: f.subject}}, "credential.credentialSubject."},
				"without definition": {admin.IssueRequest{IssuanceMode: "InTime", Credential: &admin.CredentialInput{
					Type: []any{"VerifiableCredential", "Badge"}, CredentialSubject: f.subject}}, "credential.credentialSubject."},
				"credentials[]": {admin.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: e.def.ID,
					Credentials: []admin.CredentialInput{{CredentialSubject: subject()}, {CredentialSubject: f.subject}}},
					"credentials[1].credentialSubject."},
			}
			for name, r := range requests {
				_, err := e.svc.IssueCredential(ctx, r.req)
				var v *validation.Error
				if !errors.As(err, &v) || v.Field != r.field+f.path {
					t.Errorf("%s: err = %v, want a validation error naming %s", name, err, r.field+f.path)
				}
			}
			if e.exchanges(t) != 0 || e.store.LivePointers("") != 0 {
				t.Fatal("a refused issue stored something")
			}
			rec := deferredExchange(t, e)
			for name, req := range map[string]admin.DeferredRequest{
				"deferred credential":    completion(f.subject),
				"deferred credentials[]": completion(subject(), f.subject),
			} {
				_, err := e.svc.ApplyDeferred(ctx, rec.CredentialExchangeID, req)
				var v *validation.Error
				if !errors.As(err, &v) || !strings.HasSuffix(v.Field, "credentialSubject."+f.path) {
					t.Errorf("%s: err = %v, want a validation error naming %s", name, err, f.path)
				}
			}
			after, err := e.store.GetExchange(ctx, rec.CredentialExchangeID)
			if err != nil || after.CredentialStatus != rec.CredentialStatus || after.Version != rec.Version {
				t.Errorf("a refused completion changed the record: %v", err)
			}
		})
	}
}

// TestLookalikeNamesAreNotStructural: verifiers match _sd, _sd_alg and ... byte for byte, so names that only look
// alike (other case, other Unicode forms, surrounding spaces) are ordinary claims and are accepted.
func TestLookalikeNamesAreNotStructural(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"_SD", "_sd ", " _sd", "\uff3fsd", "_s\u0064\u200b", "\u2026", "..", "....", "_sd_ALG"} {
		s := map[string]any{"given_name": "E", "x": map[string]any{name: "v"}}
		if _, err := e.svc.IssueCredential(context.Background(), admin.IssueRequest{IssuanceMode: "InTime",
			CredentialDefinitionID: e.def.ID, Credential: &admin.CredentialInput{CredentialSubject: s}}); err != nil {
			t.Errorf("claim name %q refused: %v", name, err)
		}
	}
}

// TestClaimTreeLimitsAtIntake (docs/security.md, "Claims the encoder refuses"): claims nested deeper than the
// SD-JWT encoder and verifiers accept (32 levels), or with more values than a verifier takes disclosures, are
// refused when the organisation sends them, naming the field, not later when the wallet asks (a 500 with the
// record stuck in offer_received).
func TestClaimTreeLimitsAtIntake(t *testing.T) {
	deep := func(levels int) map[string]any {
		var v any = "leaf"
		for i := 0; i < levels; i++ {
			if i%2 == 0 {
				v = map[string]any{"n": v}
			} else {
				v = []any{v}
			}
		}
		return map[string]any{"given_name": "E", "deep": v}
	}
	many := func(n int) map[string]any {
		list := make([]any, n)
		for i := range list {
			list[i] = 1
		}
		return map[string]any{"given_name": "E", "list": list}
	}
	tests := []struct {
		name    string
		subject map[string]any
		refused bool
	}{
		{"31 levels below the subject", deep(31), false},
		{"33 levels below the subject", deep(33), true},
		{"1000 values", many(1000 - 2), false},
		{"1001 values", many(1000 - 1), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			for _, withDef := range []bool{true, false} {
				req := admin.IssueRequest{IssuanceMode: "InTime", Credential: &admin.CredentialInput{CredentialSubject: tc.subject}}
				if withDef {
					req.CredentialDefinitionID = e.def.ID
				} else {
					req.Credential.Type = "Badge"
				}
				_, err := e.svc.IssueCredential(context.Background(), req)
				var v *validation.Error
				if tc.refused != (err != nil) || (tc.refused && (!errors.As(err, &v) || !strings.HasPrefix(v.Field, "credential.credentialSubject"))) {
					t.Errorf("definition %v: err = %v, refused want %v", withDef, err, tc.refused)
				}
			}
			rec := deferredExchange(t, e)
			_, err := e.svc.ApplyDeferred(context.Background(), rec.CredentialExchangeID, completion(tc.subject))
			if tc.refused != (err != nil) {
				t.Errorf("deferred completion: err = %v, refused want %v", err, tc.refused)
			}
			if tc.refused {
				if got, _ := e.store.GetExchange(context.Background(), rec.CredentialExchangeID); got.CredentialStatus != "pending" ||
					got.Status != exchange.StatusOfferSent {
					t.Errorf("refused completion left %s/%s", got.Status, got.CredentialStatus)
				}
			}
		})
	}
}
