package admin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// subjectFields names the request field of each payload of payloadsOf(req): credential.credentialSubject first
// when credential carries claims, then credentials[i].credentialSubject.
func subjectFields(req IssueRequest, n int) []string {
	fields := make([]string, n)
	offset := 0
	if req.Credential != nil && req.Credential.CredentialSubject != nil && n > 0 {
		fields[0] = "credential.credentialSubject"
		offset = 1
	}
	for i := offset; i < n; i++ {
		fields[i] = fmt.Sprintf("credentials[%d].credentialSubject", i-offset)
	}
	return fields
}

// checkFitsDefinition checks each payload against the definition's claims before anything is stored: every
// mandatory claim is present, and the claim tree has the shape the disclosure policy expects (an object where a
// path goes through a name, an array where it goes through an element). Without this check a misfit would be
// accepted here and fail only when the wallet asks for the credential. Errors name the claim, never its value.
func checkFitsDefinition(def definition.Definition, fields []string, payloads []exchange.CredentialPayload) error {
	if len(def.Claims) == 0 {
		return nil
	}
	policy, err := definition.Policy(def.Claims)
	if err != nil {
		return validation.Invalid("credentialDefinitionId", "the credential definition's claims do not compile: %v", err)
	}
	for i, p := range payloads {
		if err := policy.Check(p.CredentialSubject); err != nil {
			var ce *sdjwt.ClaimError
			if errors.As(err, &ce) {
				reason := strings.TrimPrefix(ce.Err.Error(), sdjwt.ErrInvalidClaims.Error()+": ")
				return validation.Invalid(fields[i]+"."+ce.Path.String(), "%s", reason)
			}
			return validation.Invalid(fields[i], "does not fit the credential definition's claims: %v", err)
		}
		for _, c := range def.Claims {
			if !c.Mandatory {
				continue
			}
			path, err := sdjwt.ParseClaimPath(c.Path)
			if err != nil {
				return validation.Invalid("credentialDefinitionId", "the credential definition has an invalid claim path: %v", err)
			}
			if missing, at := missingClaim(p.CredentialSubject, path); missing {
				return validation.Invalid(fields[i]+"."+at.String(), "is mandatory in credential definition %s but missing; "+
					"add it, or make the claim optional in the definition", def.ID)
			}
		}
	}
	return nil
}

// missingClaim walks path through subject and reports whether a mandatory claim is absent, with the concrete path
// (array indexes filled in) of the first absent element. A path through "every element" (null) requires the claim
// in each element; an empty array has no element that could lack it.
func missingClaim(subject map[string]any, path sdjwt.ClaimPath) (bool, sdjwt.ClaimPath) {
	var walk func(v any, i int, at sdjwt.ClaimPath) (bool, sdjwt.ClaimPath)
	walk = func(v any, i int, at sdjwt.ClaimPath) (bool, sdjwt.ClaimPath) {
		if i == len(path) {
			return false, nil
		}
		el := path[i]
		switch el.Kind {
		case sdjwt.PathName:
			at = append(at, el)
			obj, ok := v.(map[string]any)
			if !ok {
				return true, at
			}
			child, ok := obj[el.Name]
			if !ok || child == nil {
				return true, at
			}
			return walk(child, i+1, at)
		case sdjwt.PathIndex:
			at = append(at, el)
			arr, ok := v.([]any)
			if !ok || el.Index >= len(arr) {
				return true, at
			}
			return walk(arr[el.Index], i+1, at)
		default: // every element
			arr, ok := v.([]any)
			if !ok {
				return true, at
			}
			for j, item := range arr {
				elem := append(append(sdjwt.ClaimPath{}, at...), sdjwt.Index(j))
				if missing, where := walk(item, i+1, elem); missing {
					return true, where
				}
			}
			return false, nil
		}
	}
	return walk(subject, 0, nil)
}
