package wallettest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

func TestTokenRequest(t *testing.T) {
	tests := []struct {
		name, pin, wantPin string
	}{
		{"without tx_code", "", ""},
		{"with tx_code", "4821", "4821"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := TokenRequest("exchange.offer", tt.pin)
			if err != nil {
				t.Fatal(err)
			}
			if want := exchange.PreAuthorizedCode("exchange.offer"); req.PreAuthorizedCode != want {
				t.Errorf("code %q, want %q", req.PreAuthorizedCode, want)
			}
			if req.TxCode != tt.wantPin || req.TxCodePresent != (tt.wantPin != "") {
				t.Errorf("tx_code %q (present %v), want %q", req.TxCode, req.TxCodePresent, tt.wantPin)
			}
		})
	}
}

func TestOAuthCode(t *testing.T) {
	oe := &oid4vci.Error{Code: oid4vci.ErrInvalidGrant}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"other error", errors.New("boom"), ""},
		{"oauth error", oe, oid4vci.ErrInvalidGrant},
		{"wrapped oauth error", fmt.Errorf("redeem: %w", oe), oid4vci.ErrInvalidGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OAuthCode(tt.err); got != tt.want {
				t.Errorf("OAuthCode = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSignProof(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]any
	}{
		{"with nonce", map[string]any{"aud": "https://issuer.example.com", "iat": float64(1700000000), "nonce": "n-1"}},
		{"without nonce", map[string]any{"aud": "https://issuer.example.com", "iat": float64(1700000000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			priv, pub := NewHolderKey(t)
			proof := SignProof(t, priv, pub, tt.claims)
			payload, err := jws.Verify([]byte(proof), jws.WithKey(jwa.ES256, priv.Public()))
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			var got map[string]any
			if err := json.Unmarshal(payload, &got); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.claims) {
				t.Errorf("claims %v, want %v", got, tt.claims)
			}
			msg, err := jws.Parse([]byte(proof))
			if err != nil {
				t.Fatal(err)
			}
			hdr := msg.Signatures()[0].ProtectedHeaders()
			if hdr.Type() != oid4vci.ProofJWTType || hdr.JWK() == nil {
				t.Errorf("header typ %q jwk %v", hdr.Type(), hdr.JWK())
			}
		})
	}
}
