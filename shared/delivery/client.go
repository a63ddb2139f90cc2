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
	"net/netip"
	"net/url"
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		out.Error = "request could not be built"
		return out
	}
	resp, err := c.doer.Do(req)
	if err != nil {
		out.Error = deliveryError(ctx, err)
		return out
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	out.HTTPStatus = resp.StatusCode
	if resp.StatusCode/100 == 2 {
		out.Outcome = exchange.DeliveryDelivered
		return out
	}
	out.Error = fmt.Sprintf("wallet endpoint answered HTTP %d", resp.StatusCode)
	return out
}

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

// publicAddr reports whether ip is a public unicast address a wallet endpoint may have.
func publicAddr(ip netip.Addr) bool {
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() && !ip.IsUnspecified() &&
		!sharedAddressSpace.Contains(ip)
}

// sharedAddressSpace is RFC 6598 carrier-grade NAT space, not reachable as a public wallet endpoint either.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// HTTPDoer sends the offer delivery request (an *http.Client in production).
type HTTPDoer interface {
	Do(req *http.Request) (*http.Response, error)
}

// DefaultTimeout bounds a delivery when New is given no timeout.
const DefaultTimeout = 5 * time.Second

// noRedirects keeps the offer delivery on the endpoint the organisation named.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
