package handlers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/platform"
)

// TestNewDepsLoadsIssuerTrustAnchors: ISSUER_TRUST_ANCHORS is loaded beside WALLET_TRUST_ANCHORS, each into its
// own set (a root trusted for issuers is not trusted for wallet providers), with the issuer document client built;
// a bad issuer trust file stops the cold start naming the variable and the file.
func TestNewDepsLoadsIssuerTrustAnchors(t *testing.T) {
	dir := t.TempDir()
	ca, err := issuercert.NewCA("Issuer Root", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "issuer-root.pem")
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(root, issuercert.PEM(ca.Cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	clients := platform.FromAWSConfig(aws.Config{Region: "eu-west-1"})
	cfg := config.Config{IssuerURL: "https://issuer.example", TableName: "t", KMSKeyID: "alias/k",
		IssuerTrustAnchors: []string{root}}
	d, err := NewDeps(context.Background(), cfg, clients)
	if err != nil {
		t.Fatal(err)
	}
	if d.IssuerTrust.Empty() || !d.WalletTrust.Empty() || d.IssuerDocs == nil {
		t.Fatalf("issuer trust empty %v, wallet trust empty %v, issuer docs %v", d.IssuerTrust.Empty(),
			d.WalletTrust.Empty(), d.IssuerDocs)
	}
	cfg.IssuerTrustAnchors = []string{bad}
	_, err = NewDeps(context.Background(), cfg, clients)
	if err == nil || !strings.Contains(err.Error(), config.EnvIssuerTrust) || !strings.Contains(err.Error(), "bad.pem") {
		t.Fatalf("bad issuer trust file: %v", err)
	}
}
