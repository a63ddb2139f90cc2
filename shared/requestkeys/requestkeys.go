// Package requestkeys holds the issuer's credential request encryption keys (OpenID4VCI 1.0 section 10,
// credential_request_encryption): P-256 ECDH-ES keys whose private half is never stored in the clear.
//
// Envelope: KMS cannot do ECDH with a key it holds for this purpose (an ECC_NIST_P256 key is either SIGN_VERIFY or
// KEY_AGREEMENT, and local-kms offers no DeriveSharedSecret), so each key is made in the function, its PKCS #8 form
// encrypted at once with KMS Encrypt under a symmetric KMS key (encryption context: purpose and kid, so a
// ciphertext decrypts only as the key it was made for) and stored with its public JWK in DynamoDB; the plaintext is
// dropped. A function that must decrypt a request reads the item of the JWE's kid and opens it with KMS Decrypt
// once per container and key.
//
// Rotation: time is cut into periods (Rotation, 30 days by default); the first metadata build of a period makes
// that period's key (a conditional put: one key per period however many containers race), and the metadata
// announces it. A key decrypts requests during its period and the next one, so a wallet holding metadata fetched
// just before a rotation still gets through; its item then expires (DynamoDB TTL).
package requestkeys

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// DefaultRotation is how long a key is the announced one.
const DefaultRotation = 30 * 24 * time.Hour

// Purpose is what a ring's keys are for: the KMS encryption context value every key of the ring is wrapped under
// (so a key wrapped for one purpose never opens as a key of another, and IAM can allow each function only its
// own), and the prefix of its kids.
type Purpose struct {
	Context   string
	KidPrefix string
}

// The purposes: credential request encryption (OpenID4VCI 1.0 section 10) and the encryption of OpenID4VP
// responses (direct_post.jwt) of the dynamic credential request.
var (
	CredentialRequests    = Purpose{Context: "sdjwt-issuer/credential-request-encryption", KidPrefix: "req"}
	PresentationResponses = Purpose{Context: "sdjwt-issuer/openid4vp-response-encryption", KidPrefix: "vpr"}
)

// ErrUnknownKey: the kid names no usable request encryption key (unknown, of another form, or expired).
var ErrUnknownKey = oid4vci.ErrUnknownRequestKey

// Record is a stored key: its period, kid, public JWK (JSON) and the KMS ciphertext of its PKCS #8 private key.
type Record struct {
	Period     int64
	KeyID      string
	PublicJWK  []byte
	Ciphertext []byte
	// ExpiresAt is when the key stops decrypting (unix seconds): the end of the period after its own.
	ExpiresAt int64
}

// Store keeps the records (shared/store implements it).
type Store interface {
	// GetRequestKey returns the record of period, or exchange.ErrNotFound (also once expired).
	GetRequestKey(ctx context.Context, period int64) (Record, error)
	// PutRequestKey stores a record unless its period has one (exchange.ErrAlreadyExists).
	PutRequestKey(ctx context.Context, r Record) error
}

// KMS is the part of the KMS client the ring uses (*kms.Client satisfies it).
type KMS interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Ring is the request encryption keys of a deployment. Safe for concurrent use; keep one per container.
type Ring struct {
	purpose  Purpose
	store    Store
	kms      KMS
	kmsKeyID string
	rotation time.Duration
	now      func() time.Time

	mu   sync.Mutex
	keys map[string]*ecdsa.PrivateKey // opened private keys by kid
}

// New returns the ring over store, wrapping keys with the symmetric KMS key kmsKeyID. rotation <= 0 is
// DefaultRotation.
func New(store Store, client KMS, kmsKeyID string, rotation time.Duration, now func() time.Time) *Ring {
	return NewFor(CredentialRequests, store, client, kmsKeyID, rotation, now)
}

// NewFor returns the ring of purpose over store (the store keeps each purpose's keys apart).
func NewFor(purpose Purpose, store Store, client KMS, kmsKeyID string, rotation time.Duration, now func() time.Time) *Ring {
	if rotation <= 0 {
		rotation = DefaultRotation
	}
	if now == nil {
		now = time.Now
	}
	return &Ring{purpose: purpose, store: store, kms: client, kmsKeyID: kmsKeyID, rotation: rotation, now: now,
		keys: map[string]*ecdsa.PrivateKey{}}
}

func (r *Ring) period(t time.Time) int64 { return t.Unix() / int64(r.rotation/time.Second) }

// Current returns the public JWK (kid, alg ECDH-ES, use enc) of this period's key, making and storing it when the
// period has none yet (KMS Encrypt of the private key, then a conditional put; a lost race reads the winner's).
func (r *Ring) Current(ctx context.Context) (jwk.Key, error) {
	p := r.period(r.now())
	rec, err := r.store.GetRequestKey(ctx, p)
	if errors.Is(err, exchange.ErrNotFound) {
		rec, err = r.create(ctx, p)
		if errors.Is(err, exchange.ErrAlreadyExists) {
			rec, err = r.store.GetRequestKey(ctx, p)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("request encryption key: %w", err)
	}
	key, err := jwk.ParseKey(rec.PublicJWK)
	if err != nil {
		return nil, fmt.Errorf("request encryption key: stored public JWK: %w", err)
	}
	return key, nil
}

// create makes the key of period p.
func (r *Ring) create(ctx context.Context, p int64) (Record, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Record{}, err
	}
	nonce := make([]byte, 8)
	if _, err := rand.Read(nonce); err != nil {
		return Record{}, err
	}
	kid := r.purpose.KidPrefix + "-" + strconv.FormatInt(p, 10) + "-" + base64.RawURLEncoding.EncodeToString(nonce)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return Record{}, err
	}
	out, err := r.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(r.kmsKeyID), Plaintext: der,
		EncryptionContext: r.encryptionContext(kid)})
	clear(der)
	if err != nil {
		return Record{}, fmt.Errorf("KMS Encrypt: %w", err)
	}
	pub, err := jwk.FromRaw(&priv.PublicKey)
	if err != nil {
		return Record{}, err
	}
	for k, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: "ECDH-ES", jwk.KeyUsageKey: "enc"} {
		if err := pub.Set(k, v); err != nil {
			return Record{}, err
		}
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return Record{}, err
	}
	rec := Record{Period: p, KeyID: kid, PublicJWK: pubJSON, Ciphertext: out.CiphertextBlob,
		ExpiresAt: (p + 2) * int64(r.rotation/time.Second)}
	if err := r.store.PutRequestKey(ctx, rec); err != nil {
		return Record{}, err
	}
	r.mu.Lock()
	r.keys[kid] = priv
	r.mu.Unlock()
	return rec, nil
}

func (r *Ring) encryptionContext(kid string) map[string]string {
	return map[string]string{"purpose": r.purpose.Context, "kid": kid}
}

// PrivateKey returns the private key of kid for decrypting a request: a key of this period or the one before,
// opened with one KMS Decrypt per container and key. Anything else is ErrUnknownKey.
func (r *Ring) PrivateKey(ctx context.Context, kid string) (*ecdsa.PrivateKey, error) {
	r.mu.Lock()
	priv, ok := r.keys[kid]
	r.mu.Unlock()
	if ok {
		if p, _ := r.kidPeriod(kid); r.period(r.now())-p <= 1 {
			return priv, nil
		}
		return nil, ErrUnknownKey
	}
	p, ok := r.kidPeriod(kid)
	if cur := r.period(r.now()); !ok || p > cur || cur-p > 1 {
		return nil, ErrUnknownKey
	}
	rec, err := r.store.GetRequestKey(ctx, p)
	if errors.Is(err, exchange.ErrNotFound) {
		return nil, ErrUnknownKey
	}
	if err != nil {
		return nil, fmt.Errorf("request encryption key: %w", err)
	}
	if rec.KeyID != kid {
		return nil, ErrUnknownKey
	}
	out, err := r.kms.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(r.kmsKeyID), CiphertextBlob: rec.Ciphertext,
		EncryptionContext: r.encryptionContext(kid)})
	if err != nil {
		return nil, fmt.Errorf("request encryption key: KMS Decrypt: %w", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(out.Plaintext)
	clear(out.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("request encryption key: %w", err)
	}
	priv, ok = parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("request encryption key: not a P-256 key")
	}
	r.mu.Lock()
	r.keys[kid] = priv
	r.mu.Unlock()
	return priv, nil
}

// kidPeriod reads the period out of a kid of the form <prefix>-<period>-<random>.
func (r *Ring) kidPeriod(kid string) (int64, bool) {
	rest, ok := strings.CutPrefix(kid, r.purpose.KidPrefix+"-")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	p, err := strconv.ParseInt(num, 10, 64)
	return p, err == nil && p >= 0
}
