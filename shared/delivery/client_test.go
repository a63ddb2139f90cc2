package delivery

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": false, "127.9.9.9": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false,
		"192.168.1.1": false, "169.254.169.254": false, "169.254.100.1": false, "fe80::1": false, "fd00::1": false,
		"0.0.0.0": false, "::": false, "224.0.0.1": false, "ff02::1": false, "100.64.0.1": false,
		"93.184.216.34": true, "8.8.8.8": true, "2606:4700::1111": true, "100.128.0.1": true,
	} {
		if got := publicAddr(netip.MustParseAddr(addr).Unmap()); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestDeliveryClientRefusesNonPublicAddresses: outside local runs the offer delivery never connects to loopback
// (from Lambda: the runtime API) -- the refusal happens at dial time, so a public-looking name that resolves to
// loopback is refused too.
func TestDeliveryClientRefusesNonPublicAddresses(t *testing.T) {
	wallet := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer wallet.Close()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(wallet.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{wallet.URL, "http://localhost:" + port} {
		resp, err := NewHTTPClient(2*time.Second, false).Get(target)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s: connected to a loopback address", target)
		}
		if !errors.Is(err, ErrEndpointNotPublic) {
			t.Errorf("GET %s: err = %v, want ErrEndpointNotPublic", target, err)
		}
	}
	resp, err := NewHTTPClient(2*time.Second, true).Get(wallet.URL)
	if err != nil {
		t.Fatalf("local run: %v", err)
	}
	resp.Body.Close()
}
