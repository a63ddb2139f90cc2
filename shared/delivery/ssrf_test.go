package delivery

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestPublicAddrUnwrapsEmbeddedIPv4 (docs/security.md, "SSRF through offer delivery"): IPv6 forms that carry an
// IPv4 address (NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4, Teredo, IPv4-compatible, SIIT) are judged by the
// IPv4 address they reach; 0.0.0.0/8, 240.0.0.0/4, 198.18.0.0/15 and the other special-purpose ranges are refused.
func TestPublicAddrUnwrapsEmbeddedIPv4(t *testing.T) {
	for addr, want := range map[string]bool{
		// special-purpose IPv4
		"0.1.2.3": false, "0.0.0.1": false, "240.0.0.1": false, "255.255.255.255": false, "250.1.2.3": false,
		"198.18.0.1": false, "198.19.255.254": false, "192.0.0.1": false, "192.0.2.1": false, "198.51.100.1": false,
		"203.0.113.1": false, "198.20.0.1": true, "239.255.255.250": false,
		// NAT64 well-known prefix /96
		"64:ff9b::7f00:1": false, "64:ff9b::a9fe:a9fe": false, "64:ff9b::a00:1": false, "64:ff9b::808:808": true,
		// NAT64 local-use /48 (RFC 6052 /48 layout: v4 split around the u octet)
		"64:ff9b:1:7f00:0:100::": false, "64:ff9b:1:a9fe:a9:fe00::": false, "64:ff9b:1:808:8:800::": true,
		// 6to4
		"2002:7f00:1::": false, "2002:a9fe:a9fe::1": false, "2002:c0a8:101::1": false, "2002:808:808::1": true,
		// Teredo: server v4 in bits 32-63, client v4 (inverted) in the last 32 bits
		"2001:0:4136:e378:8000:63bf:80ff:fffe": false, // client 127.0.0.1
		"2001:0:7f00:1:8000:63bf:f7f7:f7f7":    false, // server 127.0.0.1
		"2001:0:4136:e378:8000:63bf:f7f7:f7f7": true,  // client 8.8.8.8, server 65.54.227.120
		// IPv4-compatible and SIIT
		"::7f00:1": false, "::a9fe:a9fe": false, "::808:808": false, "::ffff:0:7f00:1": false,
		"::ffff:7f00:1": false, "::ffff:808:808": true,
		// other special-purpose IPv6
		"2001:db8::1": false, "100::1": false, "fec0::1": false,
		"2606:4700::1111": true,
	} {
		if got := publicAddr(netip.MustParseAddr(addr).Unmap()); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestLocalDeliveryDoesNotRevealPorts (docs/security.md, "Port scan through offer delivery"): in a local run,
// where deliveries to loopback are allowed, a failed delivery to a non-public address answers the same whether
// the port is closed, answers HTTP errors, or hangs: no status, no reason.
func TestLocalDeliveryDoesNotRevealPorts(t *testing.T) {
	answering := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	defer answering.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	closed.Close()
	c, err := New(NewHTTPClient(2*time.Second, true), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, endpoint := range []string{answering.URL + "/offer", closedURL + "/offer",
		strings.Replace(answering.URL, "127.0.0.1", "localhost", 1) + "/offer"} {
		out := c.DeliverOffer(context.Background(), endpoint, "http://127.0.0.1:3000/credential-offer/x")
		if out.Outcome != "failed" || out.HTTPStatus != 0 {
			t.Errorf("%s: outcome %s, HTTP status %d; want failed without a status", endpoint, out.Outcome, out.HTTPStatus)
		}
		seen = append(seen, out.Error)
	}
	if seen[0] != seen[1] || seen[1] != seen[2] {
		t.Errorf("failures tell an answering port from a closed one: %q", seen)
	}
	// A delivered offer is still reported as delivered.
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	if out := c.DeliverOffer(context.Background(), ok.URL, "http://127.0.0.1:3000/credential-offer/x"); out.Outcome != "delivered" {
		t.Errorf("a local wallet endpoint: %+v", out)
	}
}
