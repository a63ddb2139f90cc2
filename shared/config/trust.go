package config

import (
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/issuercert"
)

// Environment variables of encryption and issuer trust (docs/design.md, "Encryption and issuer trust").
const (
	// EnvResponseEncryptionRequired: true makes every credential response encrypted (credential_response_encryption
	// required of every wallet); default false (a definition's encryptionRequired still applies).
	EnvResponseEncryptionRequired = "RESPONSE_ENCRYPTION_REQUIRED"
	// EnvIssuerCertChain: the signing key's certificate chain, leaf first and the CA's root last, as PEM or as
	// comma-separated base64 DER certificates (one line, what a template parameter holds); empty: no x5c.
	EnvIssuerCertChain = "ISSUER_CERT_CHAIN"
	// EnvRequestEncryptionKMSKeyID: the symmetric KMS key (ARN, id or alias) that wraps the credential request
	// encryption keys (shared/requestkeys); empty: request encryption is not offered.
	EnvRequestEncryptionKMSKeyID = "REQUEST_ENCRYPTION_KMS_KEY_ID"
	// EnvRequestEncryptionRequired: true refuses credential and deferred credential requests sent in the clear.
	EnvRequestEncryptionRequired = "REQUEST_ENCRYPTION_REQUIRED"
	// EnvIssuerCertRenewalDays: how many days before ISSUER_CERT_CHAIN stops validating (its earliest NotAfter)
	// a signing function warns at cold start that the chain needs renewing (default 30, 1 to 365).
	EnvIssuerCertRenewalDays = "ISSUER_CERT_RENEWAL_DAYS"
)

// DefaultIssuerCertRenewalDays and MaxIssuerCertRenewalDays bound ISSUER_CERT_RENEWAL_DAYS.
const (
	DefaultIssuerCertRenewalDays = 30
	MaxIssuerCertRenewalDays     = 365
)

// Trust is the configuration of response and request encryption and of the issuer's certificate chain.
type Trust struct {
	// ResponseEncryptionRequired requires credential_response_encryption in every credential request.
	ResponseEncryptionRequired bool
	// IssuerCertChain is the signing key's certificate chain as PEM (leaf first, the root last); nil: none.
	// Validated against the key and the issuer URL when the signer is set up (keys.Certify).
	IssuerCertChain []byte
	// RequestEncryptionKMSKeyID wraps the request encryption keys; empty: no request encryption.
	RequestEncryptionKMSKeyID string
	// RequestEncryptionRequired refuses clear credential requests (only with RequestEncryptionKMSKeyID).
	RequestEncryptionRequired bool
	// IssuerCertRenewalDays is ISSUER_CERT_RENEWAL_DAYS (0: unset, the default applies; see RenewalMargin).
	IssuerCertRenewalDays int
}

// RenewalMargin is how long before the issuer certificate chain stops validating its renewal is due: from then
// on every credential's validity is cut short by the chain's end (wallet: capValidity), and signing functions
// warn at cold start.
func (t Trust) RenewalMargin() time.Duration {
	days := t.IssuerCertRenewalDays
	if days == 0 {
		days = DefaultIssuerCertRenewalDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// loadTrust reads the trust variables; every fault is named.
func loadTrust(getenv func(string) string) (Trust, error) {
	var t Trust
	var errs []error
	var err error
	t.ResponseEncryptionRequired, err = parseBool(EnvResponseEncryptionRequired, getenv(EnvResponseEncryptionRequired))
	if err != nil {
		errs = append(errs, err)
	}
	t.IssuerCertChain, err = parseChain(getenv(EnvIssuerCertChain))
	if err != nil {
		errs = append(errs, err)
	}
	if raw := strings.TrimSpace(getenv(EnvIssuerCertRenewalDays)); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxIssuerCertRenewalDays {
			errs = append(errs, fmt.Errorf("%s %q is not a whole number of days from 1 to %d: set it, or unset it "+
				"for %d", EnvIssuerCertRenewalDays, raw, MaxIssuerCertRenewalDays, DefaultIssuerCertRenewalDays))
		}
		t.IssuerCertRenewalDays = n
	}
	t.RequestEncryptionKMSKeyID = strings.TrimSpace(getenv(EnvRequestEncryptionKMSKeyID))
	t.RequestEncryptionRequired, err = parseBool(EnvRequestEncryptionRequired, getenv(EnvRequestEncryptionRequired))
	if err != nil {
		errs = append(errs, err)
	}
	if t.RequestEncryptionRequired && t.RequestEncryptionKMSKeyID == "" {
		errs = append(errs, fmt.Errorf("%s is true but %s is empty: set the KMS key that wraps the request "+
			"encryption keys, or unset %s", EnvRequestEncryptionRequired, EnvRequestEncryptionKMSKeyID, EnvRequestEncryptionRequired))
	}
	return t, errors.Join(errs...)
}

// parseChain reads ISSUER_CERT_CHAIN: PEM as is, or comma-separated base64 DER certificates turned into PEM. The
// chain's form is checked here; whether it certifies the key is checked when the signer is set up.
func parseChain(raw string) ([]byte, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	var out []byte
	if strings.Contains(raw, "-----BEGIN") {
		out = []byte(raw + "\n")
	} else {
		for i, part := range strings.Split(raw, ",") {
			der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(part))
			if err != nil {
				return nil, fmt.Errorf("%s entry %d is not base64 DER: give the chain as PEM or as comma-separated "+
					"base64 DER certificates, leaf first and the CA's root last", EnvIssuerCertChain, i+1)
			}
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		}
	}
	if _, err := issuercert.ParsePEM(out); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvIssuerCertChain, err)
	}
	return out, nil
}

// parseBool reads an optional boolean variable (true or false; empty is false).
func parseBool(name, raw string) (bool, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, fmt.Errorf("%s %q is not true or false: set it to true or false, or unset it for false", name, raw)
	}
	return b, nil
}
