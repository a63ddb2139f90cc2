package admin_test

import (
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/admin"
)

func TestValidateOfferEndpoint(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://wallet.example/credential_offer", true},
		{"https://wallet.example/offer?tenant=1", true},
		{"http://127.0.0.1:8080/offer", true},
		{"http://localhost/offer", true},
		{"http://[::1]/offer", true},
		{"http://wallet.example/offer", false},
		{"ftp://wallet.example/offer", false},
		{"/relative", false},
		{"https://user:pw@wallet.example/", false},
		{"https://wallet.example/#frag", false},
		{"https://" + strings.Repeat("a", 2050), false},
		{"not a url", false},
	}
	for _, tt := range tests {
		err := admin.ValidateOfferEndpoint("credentialOfferEndpoint", tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("%q: err %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestIsLocalIssuer(t *testing.T) {
	for u, want := range map[string]bool{"http://127.0.0.1:3000": true, "http://localhost:3000": true,
		"http://[::1]:3000": true, "https://issuer.example": false, "https://10.0.0.1": false, "::bad": false} {
		if got := admin.IsLocalIssuer(u); got != want {
			t.Errorf("IsLocalIssuer(%q) = %v, want %v", u, got, want)
		}
	}
}
