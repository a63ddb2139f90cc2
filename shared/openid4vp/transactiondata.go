package openid4vp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/sdjwt-issuer/issuer/shared/strictjson"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// Transaction data (OpenID4VP 1.0 section 5.1 and appendix B.3.3.1): the organisation's object (a type and
// type-specific members) is sent base64url-encoded with the credential_ids it may be confirmed with; the holder's
// key binding JWT carries the base64url SHA-256 of each encoded string in transaction_data_hashes.

// HashAlg is the only transaction_data_hashes_alg the issuer asks for and verifies (the default of B.3.3.1).
const HashAlg = "sha-256"

// MaxTransactionDataBytes bounds the organisation's transactionData object.
const MaxTransactionDataBytes = 4 << 10

// ValidateTransactionData checks the organisation's transactionData (field names the request member): a JSON
// object of at most MaxTransactionDataBytes with a non-empty string type; credential_ids is set by the issuer, and
// transaction_data_hashes_alg, when given, must allow sha-256.
func ValidateTransactionData(field string, raw json.RawMessage) error {
	t := bytes.TrimSpace(raw)
	if len(t) > MaxTransactionDataBytes {
		return validation.TooLarge(field, "takes %d bytes, more than the %d KiB transaction data may hold", len(t), MaxTransactionDataBytes>>10)
	}
	var obj map[string]any
	if len(t) == 0 || t[0] != '{' || strictjson.Unmarshal(t, &obj) != nil {
		return validation.Invalid(field, "must be a JSON object with a type and the type's members, e.g. "+
			`{"type": "registration_fee", "amount": "25.00 EUR"}`)
	}
	if s, ok := obj["type"].(string); !ok || s == "" || !validation.Printable(s) {
		return validation.Invalid(field+".type", "is required: a non-empty string naming the transaction data type")
	}
	if _, ok := obj["credential_ids"]; ok {
		return validation.Invalid(field+".credential_ids", "is set by the issuer (every credential the presentation "+
			"definition asks for); remove it")
	}
	if algs, ok := obj["transaction_data_hashes_alg"]; ok {
		list, _ := algs.([]any)
		if !slices.Contains(list, any(HashAlg)) {
			return validation.Invalid(field+".transaction_data_hashes_alg", "must be an array containing %q (the hash the issuer verifies), or absent", HashAlg)
		}
	}
	return nil
}

// EncodeTransactionData is the transaction_data string of the organisation's object (validated) for the given
// credential query (or input descriptor) ids: base64url (no padding) of the object with credential_ids set.
func EncodeTransactionData(raw json.RawMessage, credentialIDs []string) (string, error) {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return "", fmt.Errorf("transaction data: %w", err)
	}
	obj["credential_ids"] = credentialIDs
	b, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("transaction data: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// TransactionDataHash is the transaction_data_hashes entry of one encoded transaction_data string: base64url of
// its SHA-256, computed over the string as sent (no decoding first).
func TransactionDataHash(encoded string) string {
	sum := sha256.Sum256([]byte(encoded))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TransactionDataCredentialIDs reads the credential_ids of an encoded transaction_data string the issuer made.
func TransactionDataCredentialIDs(encoded string) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("transaction data: %w", err)
	}
	var v struct {
		CredentialIDs []string `json:"credential_ids"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("transaction data: %w", err)
	}
	return v.CredentialIDs, nil
}
