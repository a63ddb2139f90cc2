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
//
// An mdoc's subject is namespaces of data elements instead (checkFitsMdoc); a JWT VC's subject has no id (the
// issuer sets credentialSubject.id to the holder's did:jwk).
func (s *Service) checkFitsDefinition(def definition.Definition, fields []string, payloads []exchange.CredentialPayload) error {
	if def.CredentialFormat == definition.FormatMdoc {
		return checkFitsMdoc(def, fields, payloads, s.cfg.DocumentSignerCountry)
	}
	for i, p := range payloads {
		if _, ok := p.CredentialSubject["id"]; ok && def.CredentialFormat == definition.FormatJWTVC {
			return validation.Invalid(fields[i]+".id", "is set by the issuer to the holder's did:jwk; remove it")
		}
	}
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

// checkFitsMdoc checks each payload of an mdoc exchange: namespaces of data elements an mdoc can carry, with
// the values the definition's claims type (definition.Spec.MdocNameSpaces), every mandatory element present, and
// an mDL's issuing_country equal to country, the document signer certificate's (when one is configured).
func checkFitsMdoc(def definition.Definition, fields []string, payloads []exchange.CredentialPayload, country string) error {
	for i, p := range payloads {
		nameSpaces, err := def.MdocNameSpaces(p.CredentialSubject)
		if err != nil {
			return relativeTo(fields[i], err)
		}
		if v, ok := nameSpaces[mdlNamespace][issuingCountry]; ok && country != "" && v != country {
			return validation.Invalid(fields[i]+"."+mdlNamespace+"."+issuingCountry, "must be %q, the countryName "+
				"(C) of the issuer's document signer certificate (ISSUER_CERT_CHAIN), as ISO/IEC 18013-5 requires "+
				"and mdoc verifiers check; send that country, or omit the element", country)
		}
		for _, c := range def.Claims {
			ns, _ := c.Path[0].(string)
			id, _ := c.Path[1].(string)
			if v, ok := nameSpaces[ns][id]; c.Mandatory && (!ok || v == nil) {
				return validation.Invalid(fields[i]+"."+ns+"."+id, "is mandatory in credential definition %s but "+
					"missing; add it, or make the data element optional in the definition", def.ID)
			}
		}
	}
	return nil
}

// The mDL namespace and its data element that ISO/IEC 18013-5 ties to the document signer certificate's country.
const (
	mdlNamespace   = "org.iso.18013.5.1"
	issuingCountry = "issuing_country"
)

// relativeTo prefixes the field of a *validation.Error about a subject with the subject's own field.
func relativeTo(subjectField string, err error) error {
	var v *validation.Error
	if !errors.As(err, &v) {
		return validation.Invalid(subjectField, "%v", err)
	}
	field := subjectField
	if v.Field != "" {
		field += "." + v.Field
	}
	return validation.Invalid(field, "%s", v.Reason)
}

// typeMember names the member of a definition of format that names its type: vct, doctype or type.
func typeMember(format string) string {
	switch format {
	case definition.FormatMdoc:
		return "doctype"
	case definition.FormatJWTVC:
		return "type"
	default:
		return "vct"
	}
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
