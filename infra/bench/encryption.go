package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// benchEncryption measures what an encrypted credential response adds per credential: encrypting the 1.0
// credential response of the reference credential (one credential and a notification_id, as the credential
// endpoint answers it) to a wallet's P-256 key as the endpoint does (ECDH-ES with a fresh ephemeral key,
// A256GCM), without and with zip DEF. Microseconds per response.
func benchEncryption() (plainUS, zipUS float64, size, zipSize int, err error) {
	signer, err := keys.NewLocal()
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("bench encryption: %w", err)
	}
	vc, err := sdjwt.ReferenceCredential()
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("bench encryption: %w", err)
	}
	iss, err := sdjwt.IssueVC(context.Background(), signer, vc)
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("bench encryption: %w", err)
	}
	status, body, err := oid4vci.BuildCredentialResponse(oid4vci.DialectV1, oid4vci.ProofsArray,
		oid4vci.Issuance{Credentials: []string{iss.SDJWT}, NotificationID: "exchange.notification"})
	if err != nil || status != http.StatusOK {
		return 0, 0, 0, 0, fmt.Errorf("bench encryption: response %d: %v", status, err)
	}
	plaintext, err := json.Marshal(body)
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("bench encryption: %w", err)
	}
	var benchErr error
	measure := func(zip string) (float64, int) {
		enc, err := walletEncryption(zip)
		if err != nil {
			benchErr = err
			return 0, 0
		}
		var n int
		r := testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				out, err := enc.Encrypt(plaintext)
				if err != nil {
					benchErr = err
					b.SkipNow()
				}
				n = len(out)
			}
		})
		if r.N == 0 {
			return 0, 0
		}
		return float64(r.NsPerOp()) / 1000, n
	}
	plainUS, size = measure("")
	zipUS, zipSize = measure(oid4vci.ZipDeflate)
	if benchErr != nil {
		return 0, 0, 0, 0, fmt.Errorf("bench encryption: %w", benchErr)
	}
	if plainUS == 0 || zipUS == 0 {
		return 0, 0, 0, 0, errors.New("bench encryption: no iterations ran")
	}
	return plainUS, zipUS, size, zipSize, nil
}

// walletEncryption is a wallet's credential_response_encryption (1.0 shape, A256GCM) parsed by the endpoint's
// parser, for a fresh P-256 key.
func walletEncryption(zip string) (*oid4vci.ResponseEncryption, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	key, err := jwk.FromRaw(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := key.Set(jwk.AlgorithmKey, oid4vci.EncryptionAlgECDHES); err != nil {
		return nil, err
	}
	params := map[string]any{"jwk": key, "enc": oid4vci.EncA256GCM}
	if zip != "" {
		params["zip"] = zip
	}
	req, err := json.Marshal(map[string]any{"credential_configuration_id": "x",
		"proofs": map[string]any{"jwt": []string{"a.b.c"}}, "credential_response_encryption": params})
	if err != nil {
		return nil, err
	}
	parsed, err := oid4vci.ParseCredentialRequest(req, "application/json", 1)
	if err != nil {
		return nil, err
	}
	return parsed.ResponseEncryption, nil
}
