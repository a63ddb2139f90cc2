package keys_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// countingKMS counts the calls that reach KMS and can replace Sign's answer.
type countingKMS struct {
	keys.KMSAPI
	getPublicKey, sign atomic.Int32
	signErr            error
	signWith           *ecdsa.PrivateKey // sign locally with this key instead of calling KMS
}

func (c *countingKMS) GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, o ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	c.getPublicKey.Add(1)
	return c.KMSAPI.GetPublicKey(ctx, in, o...)
}

func (c *countingKMS) Sign(ctx context.Context, in *kms.SignInput, o ...func(*kms.Options)) (*kms.SignOutput, error) {
	c.sign.Add(1)
	if c.signErr != nil {
		return nil, c.signErr
	}
	if c.signWith != nil {
		sig, err := ecdsa.SignASN1(rand.Reader, c.signWith, in.Message)
		return &kms.SignOutput{Signature: sig}, err
	}
	return c.KMSAPI.Sign(ctx, in, o...)
}

func kmsClient(t testing.TB, stack *localstack.Stack) *kms.Client {
	t.Helper()
	cfg, err := stack.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return kms.NewFromConfig(cfg)
}

func TestKMSSignerSignsVerifiably(t *testing.T) {
	stack := localstack.ForTest(t)
	client := &countingKMS{KMSAPI: kmsClient(t, stack)}
	ctx := context.Background()
	for _, id := range []string{stack.KeyID, stack.KeyAlias} {
		t.Run(id, func(t *testing.T) {
			client.getPublicKey.Store(0)
			client.sign.Store(0)
			s, err := keys.NewKMS(ctx, client, id)
			if err != nil {
				t.Fatalf("NewKMS: %v", err)
			}
			if s.KMSKeyARN() != stack.KeyID {
				t.Errorf("KMSKeyARN = %s, want %s", s.KMSKeyARN(), stack.KeyID)
			}
			checkPublicJWK(t, s)
			for range 3 {
				signAndVerify(t, ctx, s)
			}
			if n := client.getPublicKey.Load(); n != 1 {
				t.Errorf("GetPublicKey called %d times, want once", n)
			}
			if n := client.sign.Load(); n != 3 {
				t.Errorf("Sign called %d times for 3 signatures", n)
			}
		})
	}
}

func TestKMSSignerKIDStable(t *testing.T) {
	stack := localstack.ForTest(t)
	ctx := context.Background()
	a, err := keys.NewKMS(ctx, kmsClient(t, stack), stack.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := keys.NewKMS(ctx, kmsClient(t, stack), stack.KeyAlias)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != b.KeyID() {
		t.Errorf("kid by ARN %s differs from kid by alias %s", a.KeyID(), b.KeyID())
	}
}

func TestNewKMSRejectsUnsuitableKeys(t *testing.T) {
	stack := localstack.ForTest(t)
	client := kmsClient(t, stack)
	ctx := context.Background()
	create := func(spec types.KeySpec, usage types.KeyUsageType) string {
		out, err := client.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
		if err != nil {
			t.Fatalf("create %s key: %v", spec, err)
		}
		return aws.ToString(out.KeyMetadata.Arn)
	}
	disabled := create(types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	if _, err := client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(disabled)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		keyID string
	}{
		{"P-384", create(types.KeySpecEccNistP384, types.KeyUsageTypeSignVerify)},
		{"RSA", create(types.KeySpecRsa2048, types.KeyUsageTypeSignVerify)},
		{"symmetric", create(types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt)},
		{"disabled", disabled},
		{"unknown alias", "alias/does-not-exist"},
		{"empty id", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keys.NewKMS(ctx, client, tt.keyID)
			if !errors.Is(err, keys.ErrKeyUnusable) {
				t.Fatalf("NewKMS = %v, want ErrKeyUnusable", err)
			}
			if errors.Is(err, keys.ErrUnavailable) {
				t.Errorf("unusable key also reported as unavailable: %v", err)
			}
		})
	}
}

func TestKMSSignerContext(t *testing.T) {
	stack := localstack.ForTest(t)
	client := &countingKMS{KMSAPI: kmsClient(t, stack)}
	s, err := keys.NewKMS(context.Background(), client, stack.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	tests := []struct {
		name  string
		ctx   context.Context
		cause error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline passed", expired, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := client.sign.Load()
			_, err := keys.SignJWS(tt.ctx, s, []byte("{}"), nil)
			if !errors.Is(err, keys.ErrUnavailable) || !errors.Is(err, tt.cause) {
				t.Fatalf("sign = %v, want ErrUnavailable and %v through SignJWS", err, tt.cause)
			}
			if client.sign.Load() != before {
				t.Error("KMS was called with an ended context")
			}
		})
	}
	if _, err := keys.NewKMS(cancelled, client, stack.KeyID); !errors.Is(err, keys.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("NewKMS with cancelled context = %v", err)
	}
}

// deadEndpoint is a loopback address nothing listens on.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestKMSDown(t *testing.T) {
	stack := localstack.ForTest(t)
	cfg, err := stack.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	down := kms.NewFromConfig(cfg, func(o *kms.Options) {
		o.BaseEndpoint = aws.String(deadEndpoint(t))
		o.RetryMaxAttempts = 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := keys.NewKMS(ctx, down, stack.KeyID); !errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("NewKMS with KMS down = %v, want ErrUnavailable", err)
	}

	// A signer made while KMS answered, whose Sign calls then fail.
	up := kmsClient(t, stack)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		signErr  error
		signWith *ecdsa.PrivateKey
		want     error
	}{
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, nil, keys.ErrUnavailable},
		{"internal error", &types.KMSInternalException{Message: aws.String("boom")}, nil, keys.ErrUnavailable},
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException", Fault: smithy.FaultClient}, nil, keys.ErrUnavailable},
		{"key unavailable", &types.KeyUnavailableException{}, nil, keys.ErrUnavailable},
		{"unknown server fault", &smithy.GenericAPIError{Code: "Mystery", Fault: smithy.FaultServer}, nil, keys.ErrUnavailable},
		{"disabled", &types.DisabledException{}, nil, keys.ErrKeyUnusable},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException", Fault: smithy.FaultClient}, nil, keys.ErrKeyUnusable},
		{"key changed behind the signer", nil, other, keys.ErrKeyUnusable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &countingKMS{KMSAPI: up}
			s, err := keys.NewKMS(context.Background(), client, stack.KeyID)
			if err != nil {
				t.Fatal(err)
			}
			client.signErr, client.signWith = tt.signErr, tt.signWith
			_, err = keys.SignJWS(context.Background(), s, []byte("{}"), nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("sign = %v, want %v", err, tt.want)
			}
			if tt.signErr != nil && !errors.Is(err, tt.signErr) {
				t.Errorf("cause %v lost from %v", tt.signErr, err)
			}
		})
	}
}

// The KMS signer is what sdjwt issues with: the credential carries the thumbprint kid and verifies with the
// issuer's published JWK set, for both SD-JWT VC types.
func TestKMSSignerIssuesSDJWTVC(t *testing.T) {
	stack := localstack.ForTest(t)
	s, err := keys.NewKMS(context.Background(), kmsClient(t, stack), stack.KeyAlias)
	if err != nil {
		t.Fatal(err)
	}
	other, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	jwks := keys.PublicJWKS(other, s)
	for _, format := range []sdjwt.Format{sdjwt.FormatDCSDJWT, sdjwt.FormatVCSDJWT} {
		t.Run(string(format), func(t *testing.T) {
			vc, err := sdjwt.ReferenceCredential()
			if err != nil {
				t.Fatal(err)
			}
			vc.IssuedAt = time.Now().Truncate(time.Second)
			vc.Expiry = vc.IssuedAt.Add(time.Hour)
			iss, err := sdjwt.IssueVC(context.Background(), s, vc, sdjwt.WithFormat(format))
			if err != nil {
				t.Fatal(err)
			}
			v, err := sdjwt.Verify(iss.SDJWT, sdjwt.WithIssuerKeySet(jwks))
			if err != nil {
				t.Fatalf("verify with the published JWK set: %v", err)
			}
			if v.Header["kid"] != s.KeyID() || v.Header["typ"] != string(format) || v.Header["alg"] != "ES256" {
				t.Errorf("header = %v", v.Header)
			}
			if _, err := sdjwt.Verify(iss.SDJWT, sdjwt.WithIssuerKey(other.PublicJWK())); !errors.Is(err, sdjwt.ErrSignature) {
				t.Errorf("verify with another key = %v, want ErrSignature", err)
			}
		})
	}
}

// splitKMS answers GetPublicKey from one client and Sign from another.
type splitKMS struct {
	keys.KMSAPI
	signer keys.KMSAPI
}

func (s splitKMS) Sign(ctx context.Context, in *kms.SignInput, o ...func(*kms.Options)) (*kms.SignOutput, error) {
	return s.signer.Sign(ctx, in, o...)
}

// silentEndpoint accepts connections and never answers, like a KMS endpoint that hangs.
func silentEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(done)
				return
			}
			conns = append(conns, c) // held open, never read from or written to
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

// A KMS that stops answering in the middle of a call: the request's deadline (or cancellation) ends the Sign call
// and it is reported as unavailable, with the context's error in the chain.
func TestKMSSignerHangingCallEndsWithContext(t *testing.T) {
	stack := localstack.ForTest(t)
	cfg, err := stack.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hanging := kms.NewFromConfig(cfg, func(o *kms.Options) {
		o.BaseEndpoint = aws.String(silentEndpoint(t))
		o.RetryMaxAttempts = 1
	})
	s, err := keys.NewKMS(context.Background(), splitKMS{KMSAPI: kmsClient(t, stack), signer: hanging}, stack.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		ctx   func() (context.Context, context.CancelFunc)
		cause error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancelled while waiting", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := keys.SignJWS(ctx, s, []byte("{}"), nil)
			if !errors.Is(err, keys.ErrUnavailable) || !errors.Is(err, tt.cause) {
				t.Fatalf("sign = %v, want ErrUnavailable and %v", err, tt.cause)
			}
		})
	}
}

func TestKMSCryptoSignerRejectsBadInput(t *testing.T) {
	stack := localstack.ForTest(t)
	client := &countingKMS{KMSAPI: kmsClient(t, stack)}
	s, err := keys.NewKMS(context.Background(), client, stack.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	tests := []struct {
		name   string
		digest []byte
		opts   crypto.SignerOpts
	}{
		{"short digest", digest[:16], crypto.SHA256},
		{"SHA-384 requested", make([]byte, 48), crypto.SHA384},
		{"no options", digest[:], nil},
		{"message instead of digest", []byte("a message, not a digest, of some other length"), crypto.SHA256},
	}
	signer := s.CryptoSigner(context.Background())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := signer.Sign(rand.Reader, tt.digest, tt.opts)
			if !errors.Is(err, keys.ErrInvalidInput) {
				t.Fatalf("Sign = %v, want ErrInvalidInput", err)
			}
		})
	}
	if client.sign.Load() != 0 {
		t.Errorf("KMS called %d times for invalid input", client.sign.Load())
	}
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(signer.Public().(*ecdsa.PublicKey), digest[:], sig) {
		t.Error("KMS signature does not verify as ASN.1 DER with the public key")
	}
}

func BenchmarkSignLocal(b *testing.B) {
	s, err := keys.NewLocal()
	if err != nil {
		b.Fatal(err)
	}
	benchmarkSign(b, s)
}

func BenchmarkSignKMS(b *testing.B) {
	stack := localstack.ForTest(b)
	s, err := keys.NewKMS(context.Background(), kmsClient(b, stack), stack.KeyID)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkSign(b, s)
}

func benchmarkSign(b *testing.B, s keys.Signer) {
	payload := []byte(`{"iss":"https://issuer.example.com","vct":"https://example.com/vct"}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := keys.SignJWS(ctx, s, payload, nil); err != nil {
			b.Fatal(err)
		}
	}
}
