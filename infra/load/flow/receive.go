package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// ReceiveOptions say how the holder answers an offer in Receive.
type ReceiveOptions struct {
	// TxCode is the transaction code (PIN) for an offer that asks for one.
	TxCode string
	// ClientID is sent as client_id in the token request; empty sends none.
	ClientID string
	// Notify is the notification event sent after an issued credential: "credential_accepted" (when empty),
	// "credential_failure", "credential_deleted", or "none" for no notification.
	Notify string
	// Description is the notification's event_description; empty sends none.
	Description string
	// Wait bounds the wait for a deferred credential (default 10 minutes).
	Wait time.Duration
	// Progress, when set, is told each step in a sentence.
	Progress func(string)
}

// Received is what the holder got for an offer.
type Received struct {
	// Offer is the redeemed offer.
	Offer Offer
	// Credentials are the credentials received (of the offered configuration's format).
	Credentials []string
	// Deferred is true when the issuer answered 202 first and the credentials came from the deferred endpoint.
	Deferred bool
	// NotificationID is the notification_id of the answer ("" when the answer had none).
	NotificationID string
}

// ErrNeedTxCode reports an offer that asks for a transaction code when ReceiveOptions.TxCode is empty.
var ErrNeedTxCode = errors.New("the offer asks for a transaction code (PIN)")

// ReceiveError is a refusal by the issuer while receiving: the step, the status and the OAuth error with its
// description (which, from this issuer, never carries a secret).
type ReceiveError struct {
	Step        string
	Status      int
	Code        string
	Description string
}

// Error implements error.
func (e *ReceiveError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d %s", e.Step, e.Status, e.Code)
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Receive plays a holder wallet for one offer deep link (or credential_offer_uri): it fetches the offer, redeems
// the pre-authorized code (with the transaction code when the offer asks for one), proves a fresh P-256 key and
// receives the credentials, waiting at the deferred endpoint while the issuer answers 202; then it notifies.
// The client's BaseURL is set to the offer's credential issuer.
func (c *Client) Receive(ctx context.Context, link string, opts ReceiveOptions) (Received, error) {
	say := func(format string, args ...any) {
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf(format, args...))
		}
	}
	offerURI := link
	if !strings.HasPrefix(link, "http://") && !strings.HasPrefix(link, "https://") {
		u, err := OfferURI(link)
		if err != nil {
			return Received{}, fmt.Errorf("read the offer link: %w", err)
		}
		offerURI = u
	}
	offer, err := c.FetchOffer(ctx, offerURI)
	if err != nil {
		return Received{}, err
	}
	c.BaseURL = strings.TrimRight(offer.Issuer, "/")
	out := Received{Offer: offer}
	say("Fetched the offer of %s for %s.", offer.Issuer, offer.ConfigurationID)
	if offer.TxCode != nil && opts.TxCode == "" {
		return out, ErrNeedTxCode
	}
	tx := ""
	if offer.TxCode != nil {
		tx = opts.TxCode
	}
	token, err := c.Redeem(ctx, TokenRequest{Code: offer.Code, TxCode: tx, ClientID: opts.ClientID})
	if err != nil {
		return out, err
	}
	say("Redeemed the pre-authorized code%s.", map[bool]string{true: " with the PIN", false: ""}[tx != ""])
	nonce, err := c.Nonce(ctx)
	if err != nil {
		return out, err
	}
	holder, err := NewHolder()
	if err != nil {
		return out, err
	}
	cred, err := c.RequestCredential(ctx, token, offer.Issuer, offer.ConfigurationID, holder, nonce)
	if err != nil {
		return out, err
	}
	if cred.Status == http.StatusAccepted {
		out.Deferred = true
		if cred, err = c.waitDeferred(ctx, token, cred, opts, say); err != nil {
			return out, err
		}
	}
	if cred.Status != http.StatusOK || len(cred.Credentials) == 0 {
		return out, &ReceiveError{Step: "credential", Status: cred.Status, Code: cred.ErrorCode, Description: cred.Description}
	}
	out.Credentials, out.NotificationID = cred.Credentials, cred.NotificationID
	say("Received %d credential(s).", len(cred.Credentials))
	event := opts.Notify
	if event == "" {
		event = "credential_accepted"
	}
	if event != "none" && out.NotificationID != "" {
		if err := c.NotifyEvent(ctx, token, out.NotificationID, event, opts.Description); err != nil {
			return out, err
		}
		say("Notified the issuer: %s.", event)
	}
	return out, nil
}

// waitDeferred polls the deferred credential endpoint at the interval the issuer asks for (1 to 30 s) until it
// answers anything but 202, or opts.Wait passes.
func (c *Client) waitDeferred(ctx context.Context, token string, cred Credential, opts ReceiveOptions, say func(string, ...any)) (Credential, error) {
	wait := opts.Wait
	if wait <= 0 {
		wait = 10 * time.Minute
	}
	deadline := time.Now().Add(wait)
	txn := cred.TransactionID
	if txn == "" {
		return cred, &ReceiveError{Step: "credential", Status: cred.Status, Description: "202 without transaction_id"}
	}
	say("The issuer defers the credential; waiting up to %s for the organisation to complete it.", wait)
	for cred.Status == http.StatusAccepted {
		interval := time.Duration(min(max(cred.Interval, 1), 30)) * time.Second
		if time.Now().Add(interval).After(deadline) {
			return cred, fmt.Errorf("deferred credential: not ready after %s", wait)
		}
		select {
		case <-ctx.Done():
			return cred, ctx.Err()
		case <-time.After(interval):
		}
		next, err := c.PollDeferred(ctx, token, txn)
		if err != nil {
			return cred, err
		}
		if next.Status != http.StatusAccepted {
			say("The deferred credential endpoint answered %d.", next.Status)
		}
		cred = next
	}
	return cred, nil
}

// IssuerKeys reads the issuer's signing keys from /.well-known/jwt-vc-issuer.
func (c *Client) IssuerKeys(ctx context.Context) (jwk.Set, error) {
	a, err := c.do(ctx, StepCredential, http.MethodGet, "/.well-known/jwt-vc-issuer", nil)
	if err != nil {
		return nil, err
	}
	if err := expect(StepCredential, a, http.StatusOK); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(a.body["jwks"])
	if err != nil {
		return nil, fmt.Errorf("issuer keys: %w", err)
	}
	set, err := jwk.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("issuer keys: %w", err)
	}
	return set, nil
}
