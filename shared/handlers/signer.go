package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// issuerKey is the issuer's signing key as every signing function uses it: the KMS key (public key fetched once
// per container), certified by the deployment's chain when ISSUER_CERT_CHAIN is set, so that every JWS it signs
// carries x5c. The chain is validated here, once per container, against the KMS public key, the issuer URL and
// the clock; a chain that does not hold is refused with the reason, and no signature is made.
type issuerKey interface {
	keys.Signer
	keys.JWKSource
}

// newIssuerKey sets up the issuer key of d.
func newIssuerKey(ctx context.Context, d *Deps) (issuerKey, error) {
	if d.Clients == nil || d.Clients.KMS == nil {
		return nil, errors.New("no KMS client to sign with")
	}
	key, err := keys.NewKMS(ctx, d.Clients.KMS, d.Config.KMSKeyID)
	if err != nil {
		return nil, err
	}
	return certifyKey(key, d)
}

// certifyKey wraps key in the deployment's certificate chain, if one is configured.
func certifyKey(key issuerKey, d *Deps) (issuerKey, error) {
	chain := d.Config.Trust.IssuerCertChain
	if len(chain) == 0 {
		return key, nil
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	c, err := keys.Certify(key, chain, d.Config.IssuerURL, now)
	if err != nil {
		return nil, fmt.Errorf("ISSUER_CERT_CHAIN: %w: %w", keys.ErrKeyUnusable, err)
	}
	if end := c.Chain().NotAfter(); end.Sub(now()) < d.Config.Trust.RenewalMargin() && d.Log != nil {
		// Still valid, so still used: refusing would stop all issuance. No credential outlives the chain
		// (wallet: capValidity), so they get shorter and shorter, which the operator must hear of.
		d.Log.Warn("the issuer certificate chain (ISSUER_CERT_CHAIN) stops validating soon: no credential issued "+
			"now is valid after that; renew the certificate and configure the new chain",
			"not_after", end.UTC().Format(time.RFC3339), "renewal_days", int(d.Config.Trust.RenewalMargin().Hours()/24))
	}
	return c, nil
}
