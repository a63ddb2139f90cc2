package exchange_test

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

func TestExchangeSecrets(t *testing.T) {
	const id = "0b6f1c1e-8d4f-4c59-9a53-4a3f6b0e9d21"
	secret, err := exchange.NewExchangeSecret(rand.Reader, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, id+".") || len(secret) != len(id)+1+43 {
		t.Fatalf("secret shape %d characters", len(secret))
	}
	other, _ := exchange.NewExchangeSecret(rand.Reader, id)
	if other == secret {
		t.Fatal("two secrets are equal")
	}
	tests := []struct {
		name   string
		secret string
		wantID string // "" = malformed
	}{
		{name: "minted", secret: secret, wantID: id},
		{name: "no separator", secret: strings.ReplaceAll(secret, ".", ""), wantID: ""},
		{name: "empty", secret: "", wantID: ""},
		{name: "empty id", secret: "." + forged, wantID: ""},
		{name: "empty random part", secret: id + ".", wantID: ""},
		{name: "three parts", secret: secret + ".x", wantID: ""},
		{name: "overlong id", secret: strings.Repeat("a", 65) + "." + forged, wantID: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := exchange.SecretExchangeID(tc.secret)
			if got != tc.wantID || ok != (tc.wantID != "") {
				t.Fatalf("SecretExchangeID = %q, %v; want %q", got, ok, tc.wantID)
			}
		})
	}
	hash := exchange.HashSecret(secret)
	for _, tc := range []struct {
		name   string
		secret string
		hash   string
		want   bool
	}{
		{"its hash", secret, hash, true},
		{"another secret", other, hash, false},
		{"empty hash matches nothing", secret, "", false},
		{"empty secret, empty hash", "", "", false},
	} {
		if got := exchange.SecretMatches(tc.secret, tc.hash); got != tc.want {
			t.Errorf("%s: SecretMatches = %v", tc.name, got)
		}
	}
	for _, bad := range []string{"", "a.b"} {
		if _, err := exchange.NewExchangeSecret(rand.Reader, bad); err == nil {
			t.Errorf("exchange id %q accepted", bad)
		}
	}
	if _, err := exchange.NewExchangeSecret(bytes.NewReader(nil), id); err == nil {
		t.Error("a failing random source gave a secret")
	}
}

// forged is a well-formed random part that was never issued.
const forged = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
