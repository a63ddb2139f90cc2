package testkit

import "github.com/sdjwt-issuer/issuer/shared/sdjwt"

// ReferenceFrame is the @sd-jwt/sd-jwt-vc disclosure frame of sdjwt.ReferenceRules (12 disclosures).
func ReferenceFrame() map[string]any {
	return map[string]any{
		"_sd":           []any{"given_name", "family_name", "birthdate", "email", "phone_number", "address", "is_over_18"},
		"address":       map[string]any{"_sd": []any{"street_address", "locality", "postal_code"}},
		"nationalities": map[string]any{"_sd": []any{0, 1}},
	}
}

// ReferencePayload is vc's payload before disclosures, as @sd-jwt/sd-jwt-vc takes it.
func ReferencePayload(vc sdjwt.VC) map[string]any {
	p := map[string]any{"iss": vc.Issuer, "vct": vc.Type, "iat": vc.IssuedAt.Unix(), "exp": vc.Expiry.Unix(),
		"cnf": map[string]any{"jwk": vc.HolderKey}}
	for k, v := range vc.Claims {
		p[k] = v
	}
	return p
}
