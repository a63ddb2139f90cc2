package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Environment variables of encryption and issuer trust (docs/design.md, "Encryption and issuer trust").
const (
	// EnvResponseEncryptionRequired: true makes every credential response encrypted (credential_response_encryption
	// required of every wallet); default false (a definition's encryptionRequired still applies).
	EnvResponseEncryptionRequired = "RESPONSE_ENCRYPTION_REQUIRED"
)

// Trust is the configuration of response and request encryption and of the issuer's certificate chain.
type Trust struct {
	// ResponseEncryptionRequired requires credential_response_encryption in every credential request.
	ResponseEncryptionRequired bool
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
	return t, errors.Join(errs...)
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
