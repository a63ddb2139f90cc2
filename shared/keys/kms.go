package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// KMSAPI is the part of the KMS client the signer uses (*kms.Client satisfies it).
type KMSAPI interface {
	// GetPublicKey is KMS GetPublicKey, called once per signer.
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	// Sign is KMS Sign, called once per signature.
	Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
}

// KMSSigner signs with an AWS KMS key (ECC_NIST_P256, SIGN_VERIFY) using ECDSA_SHA_256 over a digest. The public
// key is fetched once, by NewKMS; keep the signer for the life of the function instance. Safe for concurrent use.
type KMSSigner struct {
	client KMSAPI
	keyARN string
	pub    *ecdsa.PublicKey
	jwk    jwk.Key
	kid    string
}

// NewKMS fetches the public key of keyID (ARN, key id or alias) once and checks that it is an ECC_NIST_P256
// signing key that can sign with ECDSA_SHA_256. Later signatures go to the key's ARN, so an alias moved to
// another key after the start does not split the signer from its cached public key.
func NewKMS(ctx context.Context, client KMSAPI, keyID string) (*KMSSigner, error) {
	if keyID == "" {
		return nil, fmt.Errorf("KMS signer: no key id: %w", ErrKeyUnusable)
	}
	out, err := client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, fmt.Errorf("KMS signer: get public key of %s: %w", keyID, classify(ctx, err))
	}
	if out.KeySpec != types.KeySpecEccNistP256 || out.KeyUsage != types.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("KMS signer: key %s is %s/%s, want ECC_NIST_P256/SIGN_VERIFY: %w",
			keyID, out.KeySpec, out.KeyUsage, ErrKeyUnusable)
	}
	if len(out.SigningAlgorithms) > 0 && !hasAlgorithm(out.SigningAlgorithms, types.SigningAlgorithmSpecEcdsaSha256) {
		return nil, fmt.Errorf("KMS signer: key %s does not sign with ECDSA_SHA_256: %w", keyID, ErrKeyUnusable)
	}
	parsed, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("KMS signer: parse public key of %s: %w: %w", keyID, ErrKeyUnusable, err)
	}
	pub, ok := parsed.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("KMS signer: public key of %s is %T, want ECDSA: %w", keyID, parsed, ErrKeyUnusable)
	}
	key, kid, err := publicJWK(pub)
	if err != nil {
		return nil, fmt.Errorf("KMS signer: %w", err)
	}
	arn := aws.ToString(out.KeyId)
	if arn == "" {
		arn = keyID
	}
	return &KMSSigner{client: client, keyARN: arn, pub: pub, jwk: key, kid: kid}, nil
}

func hasAlgorithm(algs []types.SigningAlgorithmSpec, want types.SigningAlgorithmSpec) bool {
	for _, a := range algs {
		if a == want {
			return true
		}
	}
	return false
}

// KeyID is the RFC 7638 thumbprint of the public key, the `kid` of what this signer signs (not the KMS key id).
func (s *KMSSigner) KeyID() string { return s.kid }

// KMSKeyARN is the KMS key the signer signs with, as GetPublicKey named it.
func (s *KMSSigner) KMSKeyARN() string { return s.keyARN }

// PublicJWK is a copy of the public JWK, with kid, alg ES256 and use sig.
func (s *KMSSigner) PublicJWK() jwk.Key { return cloneJWK(s.jwk) }

// CryptoSigner returns a crypto.Signer whose Sign calls KMS under ctx (its deadline and cancellation bound the
// call). Sign takes a SHA-256 digest and returns KMS's ASN.1 DER signature, which jws.Sign (through SignJWS) turns
// into JOSE r||s.
func (s *KMSSigner) CryptoSigner(ctx context.Context) crypto.Signer {
	return &kmsCryptoSigner{ctx: ctx, s: s}
}

type kmsCryptoSigner struct {
	ctx context.Context
	s   *KMSSigner
}

// Public is the public key fetched by NewKMS.
func (c *kmsCryptoSigner) Public() crypto.PublicKey { return c.s.pub }

// Sign signs digest with one KMS Sign call. The signature is checked against the public key fetched at start,
// which catches a key that changed behind the signer before a credential with a wrong kid leaves the issuer.
func (c *kmsCryptoSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil || opts.HashFunc() != crypto.SHA256 || len(digest) != sha256.Size {
		return nil, fmt.Errorf("KMS sign: want a %d-byte SHA-256 digest: %w", sha256.Size, ErrInvalidInput)
	}
	if err := c.ctx.Err(); err != nil {
		return nil, fmt.Errorf("KMS sign: %w: %w", ErrUnavailable, err)
	}
	out, err := c.s.client.Sign(c.ctx, &kms.SignInput{
		KeyId:            aws.String(c.s.keyARN),
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, fmt.Errorf("KMS sign: %w", classify(c.ctx, err))
	}
	if !ecdsa.VerifyASN1(c.s.pub, digest, out.Signature) {
		return nil, fmt.Errorf("KMS sign: signature does not verify with the key's public key fetched at start: %w",
			ErrKeyUnusable)
	}
	return out.Signature, nil
}

// classify wraps a KMS call error with ErrUnavailable or ErrKeyUnusable, keeping the cause in the chain.
func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		// No answer from KMS: connection refused, DNS, timeout.
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	switch apiErr.ErrorCode() {
	case "DependencyTimeoutException", "KMSInternalException", "KeyUnavailableException", "LimitExceededException",
		"ThrottlingException", "ServiceUnavailableException", "RequestTimeoutException":
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if apiErr.ErrorFault() == smithy.FaultServer {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	// NotFound, Disabled, KMSInvalidState, InvalidKeyUsage, AccessDenied, IncorrectKey and the like.
	return fmt.Errorf("%w: %w", ErrKeyUnusable, err)
}
