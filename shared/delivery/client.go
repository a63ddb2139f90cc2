// Package delivery is the adapter that delivers an offer to a wallet's credential offer endpoint over HTTP
// (admin.OfferDeliverer): a hardened client that never follows redirects and, outside local runs, refuses every
// non-public address at connection time.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// Client delivers offers to wallets' credential offer endpoints over HTTP (admin.OfferDeliverer).
type Client struct {
	doer    HTTPDoer
	timeout time.Duration
}

// New returns a Client sending through doer (NewHTTPClient in production), each delivery bounded by timeout
// (zero: DefaultTimeout).
func New(doer HTTPDoer, timeout time.Duration) (*Client, error) {
	if doer == nil {
		return nil, errors.New("new offer delivery client: HTTP client is required")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{doer: doer, timeout: timeout}, nil
}

// DeliverOffer sends `GET <endpoint>?credential_offer_uri=<offerURL>` and reports the outcome: delivered on a
// 2xx answer, else failed with the HTTP status or why no answer came (never the URL, which carries the offer
// id). It never fails: a failure is an outcome. The caller stamps the endpoint and the attempt time.
func (c *Client) DeliverOffer(ctx context.Context, endpoint, offerURL string) exchange.OfferDelivery {
	out := exchange.OfferDelivery{Endpoint: endpoint, Outcome: exchange.DeliveryFailed}
	u, err := url.Parse(endpoint)
	if err != nil {
		out.Error = "endpoint does not parse"
		return out
	}
	q := u.Query()
	q.Set("credential_offer_uri", offerURL)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Which addresses the request reached: a failure at a non-public one (possible only in local runs) is
	// reported without details, so that the admin API is no port scanner of the machine (docs/security.md).
	var nonPublic atomic.Bool
	mark := func(addr string) {
		host, _, err := net.SplitHostPort(addr)
		if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !publicAddr(ip) {
			nonPublic.Store(true)
		}
	}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		ConnectStart: func(_, addr string) { mark(addr) },
		GotConn:      func(info httptrace.GotConnInfo) { mark(info.Conn.RemoteAddr().String()) },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		out.Error = "request could not be built"
		return out
	}
	resp, err := c.doer.Do(req)
	if err != nil {
		out.Error = deliveryError(ctx, err)
		if nonPublic.Load() && !errors.Is(err, ErrEndpointNotPublic) {
			out.Error = errNonPublicFailed
		}
		return out
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		out.HTTPStatus = resp.StatusCode
		out.Outcome = exchange.DeliveryDelivered
		return out
	}
	if nonPublic.Load() {
		out.Error = errNonPublicFailed
		return out
	}
	out.HTTPStatus = resp.StatusCode
	out.Error = fmt.Sprintf("wallet endpoint answered HTTP %d", resp.StatusCode)
	return out
}

// errNonPublicFailed is the one description of any failed delivery to a non-public address (local runs): closed
// port, HTTP error and time-out look alike.
const errNonPublicFailed = "failed: the endpoint is a local (non-public) address; a local run reports no details " +
	"for those (check the wallet's own log)"

// deliveryError describes a transport failure without the URL (which carries the offer id).
func deliveryError(ctx context.Context, err error) string {
	var netErr net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, ErrEndpointNotPublic):
		return "refused: the endpoint resolves to a non-public address; use the wallet's public https endpoint"
	default:
		var opErr *net.OpError
		if errors.As(err, &opErr) {
			return "connection failed: " + opErr.Op
		}
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return "host not found"
		}
		return "request failed"
	}
}

// ErrEndpointNotPublic is why a delivery to a loopback, private, link-local or otherwise non-public address is
// refused: from inside Lambda such an address reaches the runtime API or other internal services, not a wallet.
var ErrEndpointNotPublic = errors.New("the offer endpoint resolves to a non-public address (loopback, private, " +
	"link-local, multicast or unspecified); use the wallet's public https endpoint")

// NewHTTPClient returns the HTTP client that delivers offers to wallet endpoints: bounded by timeout, never
// following redirects (the offer goes only where the organisation said), and, unless allowLocal, refusing at
// connection time every address that is not public, whatever name resolved to it (so DNS cannot smuggle a
// request to the Lambda runtime API or a VPC service). allowLocal is for local runs, where wallets listen on
// loopback (see admin.IsLocalIssuer).
func NewHTTPClient(timeout time.Duration, allowLocal bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout}
	if !allowLocal {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return ErrEndpointNotPublic
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !publicAddr(ip.Unmap()) {
				return ErrEndpointNotPublic
			}
			return nil
		}
	}
	transport := &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: timeout,
		ResponseHeaderTimeout: timeout, MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second}
	return &http.Client{Timeout: timeout, Transport: transport, CheckRedirect: noRedirects}
}

// publicAddr reports whether ip is a public unicast address a wallet endpoint may have. IPv6 addresses that carry
// an IPv4 address (NAT64, 6to4, Teredo) are judged by the IPv4 address they reach as well, since a translator on
// the path delivers the request there (docs/security.md).
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublicPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	for _, v4 := range embeddedIPv4(ip) {
		if !publicAddr(v4) {
			return false
		}
	}
	return true
}

// nonPublicPrefixes are the special-purpose ranges (IANA registries, RFC 6890) that no wallet endpoint has, beyond
// what netip's predicates cover.
var nonPublicPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // RFC 6598 carrier-grade NAT
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation (TEST-NET-1)
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation (TEST-NET-2)
		"203.0.113.0/24",  // documentation (TEST-NET-3)
		"240.0.0.0/4",     // reserved, and the limited broadcast address
		"::/96",           // IPv4-compatible (deprecated)
		"::ffff:0:0:0/96", // SIIT IPv4-translated
		"100::/64",        // discard-only
		"2001:db8::/32",   // documentation
		"fec0::/10",       // site-local (deprecated)
	} {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}()

var (
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")   // RFC 6052
	nat64LocalUse  = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215, /48 layout of RFC 6052
	sixToFour      = netip.MustParsePrefix("2002::/16")      // RFC 3056
	teredo         = netip.MustParsePrefix("2001::/32")      // RFC 4380
)

// embeddedIPv4 returns the IPv4 addresses an IPv6 address of a translation or tunnelling prefix reaches.
func embeddedIPv4(ip netip.Addr) []netip.Addr {
	if !ip.Is6() {
		return nil
	}
	b := ip.As16()
	v4 := func(a, b2, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b2, c, d}) }
	switch {
	case nat64WellKnown.Contains(ip):
		return []netip.Addr{v4(b[12], b[13], b[14], b[15])}
	case nat64LocalUse.Contains(ip):
		// Bits 64-71 are the reserved u octet: the IPv4 address is split around it.
		return []netip.Addr{v4(b[6], b[7], b[9], b[10])}
	case sixToFour.Contains(ip):
		return []netip.Addr{v4(b[2], b[3], b[4], b[5])}
	case teredo.Contains(ip):
		// The server's address in bits 32-63, the client's (bits inverted) in the last 32.
		return []netip.Addr{v4(b[4], b[5], b[6], b[7]), v4(^b[12], ^b[13], ^b[14], ^b[15])}
	}
	return nil
}

// HTTPDoer sends the offer delivery request (an *http.Client in production).
type HTTPDoer interface {
	Do(req *http.Request) (*http.Response, error)
}

// DefaultTimeout bounds a delivery when New is given no timeout.
const DefaultTimeout = 5 * time.Second

// noRedirects keeps the offer delivery on the endpoint the organisation named.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
