package config

import (
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"

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
