package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/issuercert"
)

// TestLocalCANamesCountry: the local root of make run names a country (C), which mdoc verifiers require in the
// name of the document signer certificate's issuer (ISO/IEC 18013-5 Annex B; @animo-id/mdoc refused every mdoc of
// make run under the local chain without it), and a root kept by an earlier run without one is not loaded, so
// localChain makes a new one.
func TestLocalCANamesCountry(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	ca, err := newLocalCA(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if c := ca.Cert.Subject.Country; len(c) != 1 || c[0] != localCountry {
		t.Fatalf("new local root names country %v, want %s", c, localCountry)
	}
	kept, err := loadLocalCA(dir, now)
	if err != nil {
		t.Fatalf("the new root does not load: %v", err)
	}
	if !kept.Cert.Equal(ca.Cert) {
		t.Fatal("another root loaded")
	}

	old, err := issuercert.NewCA("sdjwt-issuer local root CA", now.Add(-time.Hour), now.Add(caValidity))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := old.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	oldDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(oldDir, caKeyFile), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(oldDir, caRootFile), issuercert.PEM(old.Cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadLocalCA(oldDir, now); err == nil {
		t.Error("a kept root without a country loaded")
	}
}
