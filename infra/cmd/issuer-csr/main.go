// Command issuer-csr makes the certificate signing request (PKCS #10, PEM) of the issuer's KMS signing key, signed
// through KMS (x509.CreateCertificateRequest with the KMS key as a crypto.Signer: one KMS Sign call; the private
// key never leaves KMS), naming the issuer as SD-JWT VC and HAIP verifiers expect (the issuer URL as a URI SAN, its
// host as a DNS SAN and CN). The operator sends it to the deployment's CA and configures the returned chain (the
// certificate, the intermediates, the CA's root last) as ISSUER_CERT_CHAIN (template parameter
// IssuerCertificateChain):
//
//	go run ./infra/cmd/issuer-csr -key alias/sdjwt-issuer-prod -issuer-url https://issuer.example.com \
//	    -org "Example Org" -country DE > issuer.csr
//
// It uses the standard AWS credential chain (AWS_PROFILE, AWS_REGION, ...) and needs kms:GetPublicKey and
// kms:Sign on the key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/keys"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run parses args, makes the CSR and writes it to stdout (or -out); it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("issuer-csr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyID := fs.String("key", getenv("KMS_KEY_ID"), "the KMS signing key: ARN, key id or alias/NAME (default $KMS_KEY_ID)")
	issuerURL := fs.String("issuer-url", getenv("ISSUER_URL"), "the credential issuer identifier (default $ISSUER_URL)")
	org := fs.String("org", "", "the subject's organization (O), optional")
	country := fs.String("country", "", "the subject's two-letter country (C); optional, but mdocs need it (the CA's name must hold the same country)")
	out := fs.String("out", "", "write the CSR to `FILE` instead of stdout")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *keyID == "" || *issuerURL == "" {
		fmt.Fprintln(stderr, "issuer-csr: give -key (or KMS_KEY_ID) and -issuer-url (or ISSUER_URL)")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	csr, err := makeCSR(ctx, *keyID, issuercert.Subject{IssuerURL: *issuerURL, Organization: *org, Country: *country})
	if err != nil {
		fmt.Fprintf(stderr, "issuer-csr: %v\n", err)
		return 1
	}
	if *out == "" {
		_, err = stdout.Write(csr)
	} else {
		err = os.WriteFile(*out, csr, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "issuer-csr: %v\n", err)
		return 1
	}
	return 0
}

// makeCSR signs the CSR of keyID's public key through KMS.
func makeCSR(ctx context.Context, keyID string, s issuercert.Subject) ([]byte, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	key, err := keys.NewKMS(ctx, kms.NewFromConfig(cfg), keyID)
	if err != nil {
		return nil, err
	}
	return issuercert.CertificateRequest(key.CryptoSigner(ctx), s)
}
