package issuance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ValidateOfferEndpoint checks a wallet's credential offer endpoint: an absolute https URL (http only for
// loopback hosts, for local wallets), without credentials or fragment.
func ValidateOfferEndpoint(field, endpoint string) error {
	if len(endpoint) > maxEndpointLen {
		return invalid(field, "is longer than %d characters", maxEndpointLen)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return invalid(field, "must be an absolute https URL, e.g. \"https://wallet.example/credential_offer\"")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return invalid(field, "must use https (http is accepted only for localhost)")
		}
	default:
		return invalid(field, "must use https")
	}
	if u.User != nil {
		return invalid(field, "must not carry user credentials")
	}
	if u.Fragment != "" {
		return invalid(field, "must not have a fragment")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// deliveryEndpoint resolves where the offer goes (the request is already validated): credentialOfferEndpoint,
// or the endpoint registered for individualId, or nowhere.
func (s *Service) deliveryEndpoint(ctx context.Context, req IssueRequest) (string, error) {
	if req.CredentialOfferEndpoint != "" || req.IndividualID == "" {
		return req.CredentialOfferEndpoint, nil
	}
	ind, err := s.store.GetIndividual(ctx, req.IndividualID)
	if errors.Is(err, ErrNotFound) {
		return "", invalid("individualId", "no credential offer endpoint is registered for this individual; "+
			"register one with PUT /individual/{individualId}")
	}
	if err != nil {
		return "", wrap("issue credential", err)
	}
	return ind.CredentialOfferEndpoint, nil
}

// deliverOffer sends `GET <endpoint>?credential_offer_uri=...` with the delivery timeout and reports the
// outcome. It never fails: a failure is an outcome.
func (s *Service) deliverOffer(ctx context.Context, endpoint, offerURL string) OfferDelivery {
	out := OfferDelivery{Endpoint: endpoint, Outcome: DeliveryFailed, AttemptedAt: s.unix()}
	u, err := url.Parse(endpoint)
	if err != nil {
		out.Error = "endpoint does not parse"
		return out
	}
	q := u.Query()
	q.Set("credential_offer_uri", offerURL)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		out.Error = "request could not be built"
		return out
	}
	resp, err := s.http.Do(req)
	if err != nil {
		out.Error = deliveryError(ctx, err)
		return out
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	out.HTTPStatus = resp.StatusCode
	if resp.StatusCode/100 == 2 {
		out.Outcome = DeliveryDelivered
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

// recordDelivery delivers the offer and stores the outcome on the record (retrying once if the wallet moved the
// record on meanwhile). The returned record is the latest one known.
func (s *Service) recordDelivery(ctx context.Context, rec ExchangeRecord, endpoint string) ExchangeRecord {
	_, q, _ := strings.Cut(rec.CredentialOffer, "?")
	v, _ := url.ParseQuery(q)
	d := s.deliverOffer(ctx, endpoint, v.Get("credential_offer_uri"))
	for attempt := 0; attempt < 3; attempt++ {
		next := rec.Clone()
		next.OfferDelivery = &d
		next.UpdatedAt = s.unix()
		next.Internal.Version = rec.Internal.Version + 1
		err := s.store.UpdateExchange(ctx, next, Expect{Version: rec.Internal.Version, Status: rec.Status})
		if err == nil {
			return next
		}
		if !errors.Is(err, ErrConflict) {
			break
		}
		latest, gerr := s.store.GetExchange(ctx, rec.CredentialExchangeID)
		if gerr != nil {
			break
		}
		latest.UserPin = ""
		rec = latest
	}
	s.log.WarnContext(ctx, "could not record offer delivery outcome",
		"credential_exchange_id", rec.CredentialExchangeID, "outcome", d.Outcome)
	rec.OfferDelivery = &d
	return rec
}

// ErrEndpointNotPublic is why a delivery to a loopback, private, link-local or otherwise non-public address is
// refused: from inside Lambda such an address reaches the runtime API or other internal services, not a wallet.
var ErrEndpointNotPublic = errors.New("the offer endpoint resolves to a non-public address (loopback, private, " +
	"link-local, multicast or unspecified); use the wallet's public https endpoint")

// NewDeliveryClient returns the HTTP client that delivers offers to wallet endpoints: bounded by timeout, never
// following redirects (the offer goes only where the organisation said), and, unless allowLocal, refusing at
// connection time every address that is not public, whatever name resolved to it (so DNS cannot smuggle a
// request to the Lambda runtime API or a VPC service). allowLocal is for local runs, where wallets listen on
// loopback (see IsLocalIssuer).
func NewDeliveryClient(timeout time.Duration, allowLocal bool) *http.Client {
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

func publicAddr(ip netip.Addr) bool {
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() && !ip.IsUnspecified() &&
		!sharedAddressSpace.Contains(ip)
}

// sharedAddressSpace is RFC 6598 carrier-grade NAT space, not reachable as a public wallet endpoint either.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// IsLocalIssuer reports whether the issuer URL names a loopback host: a local run, where offer endpoints on
// loopback are wallets on the same machine.
func IsLocalIssuer(issuerURL string) bool {
	u, err := url.Parse(issuerURL)
	return err == nil && isLoopback(u.Hostname())
}
