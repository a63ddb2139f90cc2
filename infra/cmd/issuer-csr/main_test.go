package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// The CSR of the local KMS key is signed by that key (through local-kms) and names the issuer; a CA's
// certificate for it is what ISSUER_CERT_CHAIN starts with.
func TestCSRSignedThroughKMS(t *testing.T) {
	stack := localstack.ForTest(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-issuer-url", "https://issuer.example.com", "-org", "Example", "-country", "DE"},
		os.Getenv, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	block, _ := pem.Decode(stdout.Bytes())
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("output is not a PEM CSR: %q", stdout.String())
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatalf("CSR signature: %v", err)
	}
	cfg, err := stack.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	key, err := keys.NewKMS(context.Background(), kms.NewFromConfig(cfg), stack.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := key.CryptoSigner(context.Background()).Public().(*ecdsa.PublicKey); !ok || !pub.Equal(csr.PublicKey) {
		t.Fatal("the CSR is not of the KMS key")
	}
	if csr.URIs[0].String() != "https://issuer.example.com" || csr.DNSNames[0] != "issuer.example.com" {
		t.Fatalf("names %v %v", csr.URIs, csr.DNSNames)
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"-key", ""}, func(string) string { return "" }, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "-issuer-url") {
		t.Fatalf("without key and URL: exit %d %q", code, stderr.String())
	}
}
