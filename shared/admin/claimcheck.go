package admin

import (
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// MaxClaimValues bounds the values (object members and array elements, at every depth) of one
// credentialSubject: each may become a disclosure, and verifiers take at most 1,024 disclosures per credential.
const MaxClaimValues = 1000

// checkClaimTrees refuses, for each payload, what the credential encoders or verifiers would refuse later, when
// the wallet asks (a 500 then, with the record stuck): SD-JWT's structural names (_sd, _sd_alg, ...) as member
// names at any depth, values nested deeper than sdjwt.MaxClaimDepth, and more than MaxClaimValues values. Names
// are compared byte for byte, as verifiers do. Errors name the claim path, never a value (docs/security.md).
func checkClaimTrees(fields []string, payloads []exchange.CredentialPayload) error {
	for i, p := range payloads {
		count := 0
		var walk func(v any, depth int, at sdjwt.ClaimPath) error
		walk = func(v any, depth int, at sdjwt.ClaimPath) error {
			if depth > sdjwt.MaxClaimDepth {
				return validation.Invalid(fields[i]+"."+at.String(), "is nested deeper than %d objects and arrays, "+
					"which SD-JWT VC verifiers refuse; flatten the claim", sdjwt.MaxClaimDepth)
			}
			switch x := v.(type) {
			case map[string]any:
				for name, el := range x {
					path := append(at[:len(at):len(at)], sdjwt.Name(name))
					if sdjwt.IsStructuralName(name) {
						return validation.Invalid(fields[i]+"."+path.String(), "%s is an SD-JWT structural name that "+
							"verifiers interpret at every depth; a claim may not use it: rename the member", name)
					}
					if count++; count > MaxClaimValues {
						return validation.Invalid(fields[i], "has more than %d claim values (members and array "+
							"elements at every depth); split the data over several credentials", MaxClaimValues)
					}
					if err := walk(el, depth+1, path); err != nil {
						return err
					}
				}
			case []any:
				for j, el := range x {
					if count++; count > MaxClaimValues {
						return validation.Invalid(fields[i], "has more than %d claim values (members and array "+
							"elements at every depth); split the data over several credentials", MaxClaimValues)
					}
					if err := walk(el, depth+1, append(at[:len(at):len(at)], sdjwt.Index(j))); err != nil {
						return err
					}
				}
			}
			return nil
		}
		if err := walk(p.CredentialSubject, 0, nil); err != nil {
			return err
		}
	}
	return nil
}
