package sdjwt

import (
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// referenceHolderJWK is the holder public key of the RFC 9901 examples.
const referenceHolderJWK = `{"kty":"EC","crv":"P-256","x":"TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc","y":"ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}`

// ReferenceDisclosures is the number of disclosures ReferenceCredential produces.
const ReferenceDisclosures = 12

// ReferenceCredential returns the fixture credential the benchmarks issue: a person
// identification credential with 12 disclosures (five top-level claims, an address that is
// itself disclosable with three disclosable members, both elements of a 2-element nationalities
// array, and an age claim), a holder key and a status reference. It returns fresh values on each
// call, so callers may modify them.
func ReferenceCredential() (VC, error) {
	holder, err := jwk.ParseKey([]byte(referenceHolderJWK))
	if err != nil {
		return VC{}, fmt.Errorf("reference credential: holder key: %w", err)
	}
	policy, err := NewPolicy(ReferenceRules())
	if err != nil {
		return VC{}, fmt.Errorf("reference credential: %w", err)
	}
	iat := time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC)
	return VC{
		Issuer:    "https://issuer.example.com",
		Type:      "https://credentials.example.com/identity_credential",
		IssuedAt:  iat,
		Expiry:    iat.AddDate(1, 0, 0),
		HolderKey: holder,
		Status:    &StatusReference{Index: 42, URI: "https://issuer.example.com/status-lists/1"},
		Claims: map[string]any{
			"given_name":   "Erika",
			"family_name":  "Mustermann",
			"birthdate":    "1964-08-12",
			"email":        "erika@example.com",
			"phone_number": "+49-30-1234567",
			"address": map[string]any{
				"street_address": "Heidestrasse 17",
				"locality":       "Koeln",
				"postal_code":    "51147",
				"country":        "DE",
			},
			"nationalities":   []any{"DE", "FR"},
			"is_over_18":      true,
			"issuing_country": "DE",
		},
		Policy: policy,
	}, nil
}

// ReferenceRules returns the disclosure policy of ReferenceCredential, as a credential
// definition would carry it.
func ReferenceRules() []ClaimRule {
	return []ClaimRule{
		{Path: ClaimPath{Name("given_name")}, LimitDisclosure: true},
		{Path: ClaimPath{Name("family_name")}, LimitDisclosure: true},
		{Path: ClaimPath{Name("birthdate")}, LimitDisclosure: true},
		{Path: ClaimPath{Name("email")}, LimitDisclosure: true},
		{Path: ClaimPath{Name("phone_number")}, LimitDisclosure: true},
		{Path: ClaimPath{Name("address")}, LimitDisclosure: true},
		{Path: ClaimPath{Name("address"), Name("street_address")}, LimitDisclosure: true},
		{Path: ClaimPath{Name("address"), Name("locality")}, LimitDisclosure: true},
		{Path: ClaimPath{Name("address"), Name("postal_code")}, LimitDisclosure: true},
		{Path: ClaimPath{Name("address"), Name("country")}, LimitDisclosure: false},
		{Path: ClaimPath{Name("nationalities"), AllElements()}, LimitDisclosure: true},
		{Path: ClaimPath{Name("is_over_18")}, LimitDisclosure: true},
	}
}
