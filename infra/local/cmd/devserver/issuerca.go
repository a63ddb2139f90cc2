package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// Files of the local issuer CA under the dev server's directory.
const (
	caDir        = "issuer-ca"
	caRootFile   = "root.pem"     // the trust anchor a verifier is pointed at
	caKeyFile    = "root-key.pem" // the local root's private key (0600; a local run's only)
	caChainFile  = "chain.pem"    // the leaf of the local KMS key, then the root: what ISSUER_CERT_CHAIN holds
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 90 * 24 * time.Hour
	// localCountry is the country of the local root and leaf: ISO 3166-1's user-assigned UT, which names no real
	// country. An mdoc's document signer and its CA must name the same country (ISO/IEC 18013-5 Annex B).
	localCountry = "UT"
)

// localChain makes the issuer chain of a local run: the local root CA (kept in <localDir>/issuer-ca across runs,
// made anew with CLEAN or when missing, expiring or without a country) and a fresh leaf certificate for the local KMS key, naming the
// issuer URL. It returns the chain PEM (leaf, root) for ISSUER_CERT_CHAIN and the path of the root certificate.
func localChain(ctx context.Context, stack *localstack.Stack, localDir, issuerURL string, clean bool) ([]byte, string, error) {
	dir := filepath.Join(localDir, caDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("local issuer CA: %w", err)
	}
	now := time.Now()
	ca, err := loadLocalCA(dir, now)
	if clean || err != nil {
		if ca, err = newLocalCA(dir, now); err != nil {
			return nil, "", err
		}
	}
	awsCfg, err := stack.AWSConfig(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("local issuer CA: %w", err)
	}
	key, err := keys.NewKMS(ctx, kms.NewFromConfig(awsCfg), stack.KeyID)
	if err != nil {
		return nil, "", fmt.Errorf("local issuer CA: the KMS key: %w", err)
	}
	leaf, err := ca.Issue(key.CryptoSigner(ctx).Public(), issuercert.Subject{IssuerURL: issuerURL,
		Organization: "sdjwt-issuer local run", Country: localCountry}, now.Add(-time.Hour), now.Add(leafValidity))
	if err != nil {
		return nil, "", fmt.Errorf("local issuer CA: %w", err)
	}
	chain := issuercert.PEM(leaf, ca.Cert)
	if err := os.WriteFile(filepath.Join(dir, caChainFile), chain, 0o644); err != nil {
		return nil, "", fmt.Errorf("local issuer CA: %w", err)
	}
	return chain, filepath.Join(dir, caRootFile), nil
}

// loadLocalCA reads the kept root, refusing one that expires within a leaf's validity or, made by an earlier
// release, names no country (mdoc verifiers refuse documents under it).
func loadLocalCA(dir string, now time.Time) (*issuercert.CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, caRootFile))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, caKeyFile))
	if err != nil {
		return nil, err
	}
	ca, err := issuercert.LoadCA(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if now.Add(leafValidity).After(ca.Cert.NotAfter) {
		return nil, errors.New("the local root expires soon")
	}
	if c := ca.Cert.Subject.Country; len(c) != 1 || c[0] != localCountry {
		return nil, errors.New("the local root names no country")
	}
	return ca, nil
}

// newLocalCA makes and keeps a new local root.
func newLocalCA(dir string, now time.Time) (*issuercert.CA, error) {
	ca, err := issuercert.NewCA("sdjwt-issuer local root CA", now.Add(-time.Hour), now.Add(caValidity),
		issuercert.WithCountry(localCountry))
	if err != nil {
		return nil, fmt.Errorf("local issuer CA: %w", err)
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return nil, fmt.Errorf("local issuer CA: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, caKeyFile), keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("local issuer CA: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, caRootFile), issuercert.PEM(ca.Cert), fs.FileMode(0o644)); err != nil {
		return nil, fmt.Errorf("local issuer CA: %w", err)
	}
	return ca, nil
}
