package requestkeys_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/requestkeys"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// ring is a ring on a fresh table of the local stack with a new symmetric local-kms key and a settable clock.
func ring(t *testing.T, clock *time.Time) (*requestkeys.Ring, *store.Store, *kms.Client, string) {
	t.Helper()
	stack := localstack.ForTest(t)
	ctx := context.Background()
	cfg, err := stack.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kc := kms.NewFromConfig(cfg)
	k, err := kc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecSymmetricDefault, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return *clock }
	st, err := store.New(dynamodb.NewFromConfig(cfg), stack.NewTable(ctx, t), store.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	return requestkeys.New(st, kc, *k.KeyMetadata.Arn, 24*time.Hour, now), st, kc, *k.KeyMetadata.Arn
}

// One key per period, however many containers race for it; the stored item holds the public JWK and a KMS
// ciphertext, never the private key; a key decrypts during its period and the next, then it is unknown.
func TestRotationAndEnvelope(t *testing.T) {
	clock := domaintest.Epoch // ahead of the real clock: DynamoDB Local sweeps TTL by it
	r, st, kc, arn := ring(t, &clock)
	ctx := context.Background()
	kids := make(chan string, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// concurrent metadata builds race for the period's key: the conditional put lets one win
			key, err := r.Current(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			kids <- key.KeyID()
		}()
	}
	wg.Wait()
	close(kids)
	first := ""
	for kid := range kids {
		if first == "" {
			first = kid
		} else if kid != first {
			t.Fatalf("two keys in one period: %s and %s", first, kid)
		}
	}
	rec, err := st.GetRequestKey(ctx, clock.Unix()/86400)
	if err != nil || rec.KeyID != first || len(rec.Ciphertext) == 0 {
		t.Fatalf("stored record %+v, %v", rec, err)
	}
	var pub map[string]any
	if err := json.Unmarshal(rec.PublicJWK, &pub); err != nil || pub["d"] != nil || pub["alg"] != "ECDH-ES" || pub["use"] != "enc" || pub["kid"] != first {
		t.Fatalf("stored public JWK %s", rec.PublicJWK)
	}
	priv, err := r.PrivateKey(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	d, err := priv.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if containsBytes(rec.Ciphertext, d) {
		t.Fatal("the stored ciphertext contains the private scalar")
	}
	// A fresh container opens the key through KMS Decrypt (with the kid as encryption context).
	fresh := requestkeys.New(st, kc, arn, 24*time.Hour, func() time.Time { return clock })
	opened, err := fresh.PrivateKey(ctx, first)
	if err != nil || !opened.Equal(priv) {
		t.Fatalf("a fresh container: %v", err)
	}

	clock = clock.Add(24 * time.Hour)
	next, err := r.Current(ctx)
	if err != nil || next.KeyID() == first {
		t.Fatalf("next period's key %v, %v", next, err)
	}
	if _, err := r.PrivateKey(ctx, first); err != nil {
		t.Fatalf("the previous key must still decrypt requests in flight: %v", err)
	}
	clock = clock.Add(24 * time.Hour)
	if _, err := r.PrivateKey(ctx, first); !errors.Is(err, requestkeys.ErrUnknownKey) {
		t.Fatalf("a key two periods old: %v", err)
	}
	for _, kid := range []string{"", "req-x-y", "other", "req-99999999-abc", next.KeyID() + "x"} {
		if _, err := r.PrivateKey(ctx, kid); !errors.Is(err, requestkeys.ErrUnknownKey) {
			t.Errorf("kid %q: %v", kid, err)
		}
	}
}

func containsBytes(haystack, needle []byte) bool {
	for i := 0; i+len(needle) <= len(haystack); i++ {
		if string(haystack[i:i+len(needle)]) == string(needle) {
			return true
		}
	}
	return false
}

// TestPurposesAreApart: the OpenID4VP response keys are a ring of their own (VPRKEY# items, vpr- kids, their own
// KMS encryption context): in the same period each purpose has its own key, and neither ring opens the other's kid.
func TestPurposesAreApart(t *testing.T) {
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	requests, st, kc, arn := ring(t, &clock)
	now := func() time.Time { return clock }
	responses := requestkeys.NewFor(requestkeys.PresentationResponses, st.KeysOf(requestkeys.PresentationResponses), kc, arn, 24*time.Hour, now)
	ctx := context.Background()
	reqKey, err := requests.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	respKey, err := responses.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if reqKey.KeyID() == respKey.KeyID() || reqKey.KeyID()[:4] != "req-" || respKey.KeyID()[:4] != "vpr-" {
		t.Fatalf("kids %s and %s", reqKey.KeyID(), respKey.KeyID())
	}
	if rec, err := st.KeysOf(requestkeys.PresentationResponses).GetRequestKey(ctx, clock.Unix()/86400); err != nil || rec.KeyID != respKey.KeyID() {
		t.Fatalf("stored response key %+v, %v", rec, err)
	}
	if _, err := responses.PrivateKey(ctx, reqKey.KeyID()); !errors.Is(err, requestkeys.ErrUnknownKey) {
		t.Fatalf("the response ring opened a request key: %v", err)
	}
	if _, err := requests.PrivateKey(ctx, respKey.KeyID()); !errors.Is(err, requestkeys.ErrUnknownKey) {
		t.Fatalf("the request ring opened a response key: %v", err)
	}
	fresh := requestkeys.NewFor(requestkeys.PresentationResponses, st.KeysOf(requestkeys.PresentationResponses), kc, arn, 24*time.Hour, now)
	if priv, err := fresh.PrivateKey(ctx, respKey.KeyID()); err != nil || priv == nil {
		t.Fatalf("another container cannot open the response key: %v", err)
	}
}
