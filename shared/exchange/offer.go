package exchange

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// URL schemes of the offer deep link.
const (
	SchemeOpenIDCredentialOffer = "openid-credential-offer://"
	SchemeHAIP                  = "haip://"
)

// OfferURL is the credential_offer_uri of an offer id.
func OfferURL(issuerURL, offerID string) string {
	return strings.TrimRight(issuerURL, "/") + "/credential-offer/" + offerID
}

// OfferDeepLink is the offer by reference: <scheme>?credential_offer_uri=<url-encoded offer URL>.
func OfferDeepLink(scheme, offerURL string) string {
	return scheme + "?credential_offer_uri=" + url.QueryEscape(offerURL)
}

// OfferIDFromDeepLink extracts the offer id of a record's credentialOffer (the metadata function derives the
// pre-authorized code from it).
func OfferIDFromDeepLink(link string) (string, error) {
	_, q, ok := strings.Cut(link, "?")
	if !ok {
		return "", errors.New("offer deep link has no query")
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return "", fmt.Errorf("offer deep link query: %w", err)
	}
	u := v.Get("credential_offer_uri")
	i := strings.LastIndex(u, "/credential-offer/")
	if i < 0 {
		return "", errors.New("offer deep link has no credential_offer_uri of this issuer")
	}
	return u[i+len("/credential-offer/"):], nil
}
