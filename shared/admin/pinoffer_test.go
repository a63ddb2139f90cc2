package admin_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/memstore"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// TestShortUserPinRefused (docs/security.md, "Short tx_code"): a userPin under 4 characters falls to the attempt
// cap too often (a 1-digit PIN in half the cases): 400 naming userPin, nothing stored.
func TestShortUserPinRefused(t *testing.T) {
	e := newEnv(t)
	for _, pin := range []string{"1", "12", "123", "ab", "\u00e9\u00e9\u00e9"} {
		_, err := e.svc.IssueCredential(context.Background(), admin.IssueRequest{IssuanceMode: "InTime", UserPin: pin,
			CredentialDefinitionID: e.def.ID, Credential: &admin.CredentialInput{CredentialSubject: subject()}})
		var v *validation.Error
		if !errors.As(err, &v) || v.Field != "userPin" {
			t.Errorf("userPin %q: %v, want a validation error naming userPin", pin, err)
		}
	}
	if e.exchanges(t) != 0 {
		t.Fatal("a refused issue stored something")
	}
	for _, pin := range []string{"1234", "abcd", "", "123456789012"} {
		if _, err := e.svc.IssueCredential(context.Background(), admin.IssueRequest{IssuanceMode: "InTime", UserPin: pin,
			CredentialDefinitionID: e.def.ID, Credential: &admin.CredentialInput{CredentialSubject: subject()}}); err != nil {
			t.Errorf("userPin %q refused: %v", pin, err)
		}
	}
}

// TestOfferValidity (docs/security.md, "Long-lived offers"): the offer and its pre-authorized code live
// DefaultOfferValidity (1 hour) unless configured, never past the retention, and the record says when they end.
func TestOfferValidity(t *testing.T) {
	if admin.DefaultOfferValidity != time.Hour {
		t.Fatalf("DefaultOfferValidity = %s, want 1h", admin.DefaultOfferValidity)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		cfg  admin.Config
		want time.Duration
	}{
		{admin.Config{IssuerURL: "https://issuer.example"}, time.Hour},
		{admin.Config{IssuerURL: "https://issuer.example", OfferValidity: 10 * time.Minute}, 10 * time.Minute},
		{admin.Config{IssuerURL: "https://issuer.example", OfferValidity: 48 * time.Hour, Retention: 24 * time.Hour}, 24 * time.Hour},
	} {
		st := memstore.New(memstore.WithClock(func() time.Time { return now }))
		svc, err := admin.New(tc.cfg, deps(st, &fakeDoer{status: 200}), exchange.WithClock(func() time.Time { return now }),
			exchange.WithRandom(rand.Reader))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := svc.IssueCredential(context.Background(), admin.IssueRequest{IssuanceMode: "InTime",
			Credential: &admin.CredentialInput{Type: "Badge", CredentialSubject: subject()}})
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Unix(rec.OfferExpiresAt, 0).Sub(now); got != tc.want {
			t.Errorf("%+v: the offer ends after %s, want %s", tc.cfg, got, tc.want)
		}
	}
}
