// Package flow plays a holder wallet and the organisation's back end over HTTP against a running issuer: one full
// InTime pre-authorized flow is issue (admin API), offer by reference, token, nonce, credential and
// notification. The load run (infra/load) and the benchmarks (infra/bench) drive many flows through it.
//
// Secrets the flow handles (the admin key, codes, tokens, nonces, credentials) never appear in its errors: an
// error names the step, the HTTP status and the OAuth or admin error code only.
package flow

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// AdminBase is the base path of the admin API.
const AdminBase = "/v2/config/digital-wallet/openid/sdjwt"

// PreAuthorizedGrant is the grant type of the pre-authorized code flow.
const PreAuthorizedGrant = "urn:ietf:params:oauth:grant-type:pre-authorized_code"

// maxResponseBytes bounds what is read of one response.
const maxResponseBytes = 1 << 20

// Step names one request of the flow.
type Step int

// The steps of one flow, in order.
const (
	StepIssue Step = iota
	StepOffer
	StepToken
	StepNonce
	StepCredential
	StepNotification
	numSteps
)

// NumSteps is the number of requests of one flow.
const NumSteps = int(numSteps)

// String is the step's name.
func (s Step) String() string {
	switch s {
	case StepIssue:
		return "issue"
	case StepOffer:
		return "offer"
	case StepToken:
		return "token"
	case StepNonce:
		return "nonce"
	case StepCredential:
		return "credential"
	case StepNotification:
		return "notification"
	case StepPushedAuthorization:
		return "par"
	case StepAuthorize:
		return "authorize"
	case StepDirectPost:
		return "direct_post"
	}
	return fmt.Sprintf("step(%d)", int(s))
}

// StepError is a step that did not answer as a successful flow needs.
type StepError struct {
	// Step is the failing request.
	Step Step
	// Status is the HTTP status (0 when the request was not answered).
	Status int
	// Code is the error code of the body ("invalid_grant"), when it has one.
	Code string
	// Err is the transport or decoding error, if any.
	Err error
}

// Error names the step, the status and the error code, never a secret.
func (e *StepError) Error() string {
	switch {
	case e.Err != nil && e.Status == 0:
		return fmt.Sprintf("%s: %v", e.Step, e.Err)
	case e.Err != nil:
		return fmt.Sprintf("%s: HTTP %d: %v", e.Step, e.Status, e.Err)
	case e.Code != "":
		return fmt.Sprintf("%s: HTTP %d %s", e.Step, e.Status, e.Code)
	}
	return fmt.Sprintf("%s: HTTP %d", e.Step, e.Status)
}

// Unwrap is the transport or decoding error.
func (e *StepError) Unwrap() error { return e.Err }

// Client runs flows against one issuer.
type Client struct {
	// BaseURL is where the API answers, e.g. http://127.0.0.1:3000 (no trailing slash).
	BaseURL string
	// AdminKey is the admin API key (sent as `Authorization: ApiKey <key>`).
	AdminKey string
	// HTTP sends the requests; nil: a client with a 30 s timeout.
	HTTP *http.Client
	// Subject is the credentialSubject of every issued exchange; nil: a fixed sample person.
	Subject map[string]any
	// AfterStep, when set, is called by Run after each successful step (the benchmarks count AWS calls per step).
	AfterStep func(Step)
	// IDTokenClaims are added to the holder's ID token in the authorization code flow (what a wallet may say
	// about the holder beside its DID).
	IDTokenClaims map[string]any
	// DPoP makes Run bind its token with a DPoP key of its own (RFC 9449): the token request first goes without
	// a server nonce and is retried with the one of use_dpop_nonce, as wallets do.
	DPoP bool
}

func (c *Client) stepDone(s Step) {
	if c.AfterStep != nil {
		c.AfterStep(s)
	}
}

// DefaultSubject is the credentialSubject issued when Client.Subject is nil (sample data, no real person).
func DefaultSubject() map[string]any {
	return map[string]any{"given_name": "Erika", "family_name": "Mustermann",
		"address": map[string]any{"street_address": "Heidestrasse 17", "locality": "Koeln"}}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// answer is a response with its JSON body decoded.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a *answer) str(name string) string {
	s, _ := a.body[name].(string)
	return s
}

// errorCode is the body's OAuth `error` or the admin API's error code, if any.
func (a *answer) errorCode() string {
	if s := a.str("error"); s != "" {
		return s
	}
	if e, ok := a.body["error"].(map[string]any); ok {
		if s, ok := e["code"].(string); ok {
			return s
		}
	}
	return a.str("code")
}

func (c *Client) do(ctx context.Context, step Step, method, target string, body io.Reader, headers ...string) (*answer, error) {
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		target = c.BaseURL + target
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, &StepError{Step: step, Err: fmt.Errorf("build request: %w", err)}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &StepError{Step: step, Err: errors.Unwrap(err)}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return nil, &StepError{Step: step, Status: res.StatusCode, Err: fmt.Errorf("read body: %w", err)}
	}
	a := &answer{status: res.StatusCode, header: res.Header}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			return nil, &StepError{Step: step, Status: res.StatusCode, Err: errors.New("body is not a JSON object")}
		}
	}
	return a, nil
}

func (c *Client) admin(ctx context.Context, step Step, method, path string, body any) (*answer, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, &StepError{Step: step, Err: fmt.Errorf("encode body: %w", err)}
	}
	return c.do(ctx, step, method, AdminBase+path, bytes.NewReader(b),
		"Authorization", "ApiKey "+c.AdminKey, "Content-Type", "application/json")
}

func (c *Client) postJSON(ctx context.Context, step Step, path, token string, body any) (*answer, error) {
	return c.postJSONWith(ctx, step, path, token, body, nil)
}

// postJSONWith posts body with token, as a DPoP-bound token with a proof when dp is set.
func (c *Client) postJSONWith(ctx context.Context, step Step, path, token string, body any, dp *dpopSession) (*answer, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, &StepError{Step: step, Err: fmt.Errorf("encode body: %w", err)}
	}
	return c.post(ctx, step, path, "application/json", b, token, dp)
}

// post sends a POST; with dp it carries a DPoP proof (and the DPoP scheme for a token) and retries a
// use_dpop_nonce answer once with the nonce it brought.
func (c *Client) post(ctx context.Context, step Step, path, contentType string, body []byte, token string, dp *dpopSession) (*answer, error) {
	for attempt := 0; ; attempt++ {
		h := []string{"Content-Type", contentType}
		scheme := "Bearer"
		if dp != nil {
			proof, err := dp.proof(c.BaseURL+path, token)
			if err != nil {
				return nil, &StepError{Step: step, Err: err}
			}
			h, scheme = append(h, "DPoP", proof), "DPoP"
		}
		if token != "" {
			h = append(h, "Authorization", scheme+" "+token)
		}
		a, err := c.do(ctx, step, http.MethodPost, path, bytes.NewReader(body), h...)
		if err != nil || dp == nil || !dp.askedForNonce(a) || attempt > 0 {
			return a, err
		}
		dp.retries++
	}
}

// expect turns an unexpected status into a StepError.
func expect(step Step, a *answer, statuses ...int) error {
	for _, s := range statuses {
		if a.status == s {
			return nil
		}
	}
	return &StepError{Step: step, Status: a.status, Code: a.errorCode()}
}

// CreateDefinition creates the credential definition the flows issue and returns its id.
func (c *Client) CreateDefinition(ctx context.Context) (string, error) {
	a, err := c.admin(ctx, StepIssue, http.MethodPost, "/credential-definition", map[string]any{
		"label": "Load test credential", "credentialFormat": "dc+sd-jwt", "vct": "LoadTestCredential",
		"expirationInDays": 365, "claims": []any{
			map[string]any{"path": []any{"given_name"}, "mandatory": true, "limitDisclosure": true},
			map[string]any{"path": []any{"family_name"}, "limitDisclosure": true},
			map[string]any{"path": []any{"address"}, "limitDisclosure": true},
			map[string]any{"path": []any{"address", "street_address"}, "limitDisclosure": true},
		}, "display": []any{map[string]any{"name": "Load test credential", "locale": "en-GB"}}})
	if err != nil {
		return "", fmt.Errorf("create definition: %w", err)
	}
	if err := expect(StepIssue, a, http.StatusOK, http.StatusCreated); err != nil {
		return "", fmt.Errorf("create definition: %w", err)
	}
	def, _ := a.body["credentialDefinition"].(map[string]any)
	id, _ := def["credentialDefinitionId"].(string)
	if id == "" {
		return "", errors.New("create definition: no credentialDefinitionId in the response")
	}
	return id, nil
}

// Result is one completed flow.
type Result struct {
	// ExchangeID is the exchange the flow redeemed.
	ExchangeID string
	// Steps are the durations of the requests, indexed by Step.
	Steps [NumSteps]time.Duration
	// Total is the duration of the whole flow (the holder key generation included).
	Total time.Duration
	// NonceRetries counts the use_dpop_nonce answers of a DPoP flow's token request (1: the first request goes
	// without a nonce).
	NonceRetries int
}

// Offer is a redeemable offer: what a wallet reads from the offer by reference.
type Offer struct {
	// ExchangeID is the exchange behind the offer.
	ExchangeID string
	// Issuer is the credential_issuer (the proof's audience).
	Issuer string
	// Code is the pre-authorized code.
	Code string
	// ConfigurationID is the first credential_configuration_id offered.
	ConfigurationID string
	// TxCode is the offer's tx_code object (input_mode, length, description), nil when no code is needed.
	TxCode map[string]any
	// IssuerState is the issuer_state of the offer's authorization_code grant ("" when it has none).
	IssuerState string
}

// Issue creates an InTime exchange for definitionID and fetches its offer by reference (AfterStep is called
// after each of the two requests).
func (c *Client) Issue(ctx context.Context, definitionID string) (Offer, [2]time.Duration, error) {
	var took [2]time.Duration
	start := time.Now()
	exID, offerURI, err := c.CreateExchange(ctx, definitionID)
	if err != nil {
		return Offer{}, took, err
	}
	took[0] = time.Since(start)
	c.stepDone(StepIssue)

	start = time.Now()
	offer, err := c.FetchOffer(ctx, offerURI)
	if err != nil {
		return Offer{}, took, err
	}
	offer.ExchangeID = exID
	took[1] = time.Since(start)
	c.stepDone(StepOffer)
	return offer, took, nil
}

// CreateExchange creates an InTime exchange for definitionID (admin API) and returns its id and offer URI.
func (c *Client) CreateExchange(ctx context.Context, definitionID string) (exchangeID, offerURI string, err error) {
	subject := c.Subject
	if subject == nil {
		subject = DefaultSubject()
	}
	a, err := c.admin(ctx, StepIssue, http.MethodPost, "/credential/issue", map[string]any{
		"issuanceMode": "InTime", "credentialDefinitionId": definitionID,
		"credential": map[string]any{"credentialSubject": subject}})
	if err != nil {
		return "", "", err
	}
	if err := expect(StepIssue, a, http.StatusOK, http.StatusCreated); err != nil {
		return "", "", err
	}
	hist, _ := a.body["credentialHistory"].(map[string]any)
	exchangeID, _ = hist["credentialExchangeId"].(string)
	link, _ := hist["credentialOffer"].(string)
	offerURI, err = OfferURI(link)
	if err != nil || exchangeID == "" {
		return "", "", &StepError{Step: StepIssue, Status: a.status, Err: errors.New("no exchange id or offer link")}
	}
	return exchangeID, offerURI, nil
}

// FetchOffer reads the offer by reference at offerURI (ExchangeID stays empty: the offer does not name it).
func (c *Client) FetchOffer(ctx context.Context, offerURI string) (Offer, error) {
	o, err := c.do(ctx, StepOffer, http.MethodGet, offerURI, nil)
	if err != nil {
		return Offer{}, err
	}
	if err := expect(StepOffer, o, http.StatusOK); err != nil {
		return Offer{}, err
	}
	grants, _ := o.body["grants"].(map[string]any)
	grant, _ := grants[PreAuthorizedGrant].(map[string]any)
	code, _ := grant["pre-authorized_code"].(string)
	ids, _ := o.body["credential_configuration_ids"].([]any)
	var cfgID string
	if len(ids) > 0 {
		cfgID, _ = ids[0].(string)
	}
	if code == "" || cfgID == "" || o.str("credential_issuer") == "" {
		return Offer{}, &StepError{Step: StepOffer, Status: o.status, Err: errors.New("offer without code, configuration or issuer")}
	}
	txCode, _ := grant["tx_code"].(map[string]any)
	ac, _ := grants["authorization_code"].(map[string]any)
	issuerState, _ := ac["issuer_state"].(string)
	return Offer{Issuer: o.str("credential_issuer"), Code: code, ConfigurationID: cfgID, TxCode: txCode,
		IssuerState: issuerState}, nil
}

// OfferURI is the credential_offer_uri of an offer deep link.
func OfferURI(link string) (string, error) {
	_, q, ok := strings.Cut(link, "?")
	if !ok {
		return "", errors.New("offer link without query")
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return "", fmt.Errorf("offer link query: %w", err)
	}
	u := v.Get("credential_offer_uri")
	if u == "" {
		return "", errors.New("offer link without credential_offer_uri")
	}
	return u, nil
}

// Token redeems a pre-authorized code and returns the access token.
func (c *Client) Token(ctx context.Context, code string) (string, error) {
	return c.Redeem(ctx, TokenRequest{Code: code})
}

// TokenRequest is a pre-authorized code token request.
type TokenRequest struct {
	// Code is the pre-authorized code.
	Code string
	// TxCode is the transaction code (PIN) the holder typed; empty when the offer needs none.
	TxCode string
	// ClientID is the wallet's client_id; empty sends none.
	ClientID string
}

// Redeem sends a token request for a pre-authorized code and returns the access token.
func (c *Client) Redeem(ctx context.Context, tr TokenRequest) (string, error) {
	return c.redeem(ctx, tr, nil)
}

// redeem is Redeem with a DPoP proof when dp is set.
func (c *Client) redeem(ctx context.Context, tr TokenRequest, dp *dpopSession) (string, error) {
	form := url.Values{"grant_type": {PreAuthorizedGrant}, "pre-authorized_code": {tr.Code}}
	if tr.TxCode != "" {
		form.Set("tx_code", tr.TxCode)
	}
	if tr.ClientID != "" {
		form.Set("client_id", tr.ClientID)
	}
	a, err := c.post(ctx, StepToken, "/token", "application/x-www-form-urlencoded", []byte(form.Encode()), "", dp)
	if err != nil {
		return "", err
	}
	if err := expect(StepToken, a, http.StatusOK); err != nil {
		return "", err
	}
	tok := a.str("access_token")
	if tok == "" {
		return "", &StepError{Step: StepToken, Status: a.status, Err: errors.New("no access_token")}
	}
	return tok, nil
}

// Nonce fetches a fresh c_nonce.
func (c *Client) Nonce(ctx context.Context) (string, error) {
	a, err := c.do(ctx, StepNonce, http.MethodPost, "/nonce", nil)
	if err != nil {
		return "", err
	}
	if err := expect(StepNonce, a, http.StatusOK); err != nil {
		return "", err
	}
	n := a.str("c_nonce")
	if n == "" {
		return "", &StepError{Step: StepNonce, Status: a.status, Err: errors.New("no c_nonce")}
	}
	return n, nil
}

// Holder is a wallet's proof key.
type Holder struct {
	priv *ecdsa.PrivateKey
	pub  jwk.Key
}

// NewHolder generates a P-256 proof key.
func NewHolder() (*Holder, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate holder key: %w", err)
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("holder JWK: %w", err)
	}
	return &Holder{priv: priv, pub: pub}, nil
}

// Proof is an openid4vci-proof+jwt for aud and nonce.
func (h *Holder) Proof(aud, nonce string) (string, error) {
	hdr := jws.NewHeaders()
	if err := hdr.Set("typ", "openid4vci-proof+jwt"); err != nil {
		return "", fmt.Errorf("proof header: %w", err)
	}
	if err := hdr.Set("jwk", h.pub); err != nil {
		return "", fmt.Errorf("proof header: %w", err)
	}
	payload, err := json.Marshal(map[string]any{"aud": aud, "iat": time.Now().Unix(), "nonce": nonce})
	if err != nil {
		return "", fmt.Errorf("proof payload: %w", err)
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.ES256, h.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign proof: %w", err)
	}
	return string(b), nil
}

// Credential is a credential response.
type Credential struct {
	// Status is the HTTP status (200 issued).
	Status int
	// Credentials are the issued SD-JWT VCs.
	Credentials []string
	// NotificationID is the notification_id of the response.
	NotificationID string
	// ErrorCode is the OAuth error of a refused request.
	ErrorCode string
	// Description is the error_description of a refused request.
	Description string
	// RetryAfter is the Retry-After header of a refused request.
	RetryAfter string
	// TransactionID is the deferred transaction_id of a 202 answer.
	TransactionID string
	// Interval is the seconds a 202 answer asks the wallet to wait before polling.
	Interval int
}

// RequestCredential asks for one credential of configurationID bound to the holder's key, with proof nonce.
// A refusal (4xx/5xx) is returned as a Credential with its status and error code, not as an error.
func (c *Client) RequestCredential(ctx context.Context, token, issuer, configurationID string, h *Holder, nonce string) (Credential, error) {
	return c.requestCredential(ctx, token, issuer, configurationID, h, nonce, nil)
}

func (c *Client) requestCredential(ctx context.Context, token, issuer, configurationID string, h *Holder, nonce string, dp *dpopSession) (Credential, error) {
	proof, err := h.Proof(issuer, nonce)
	if err != nil {
		return Credential{}, &StepError{Step: StepCredential, Err: err}
	}
	a, err := c.postJSONWith(ctx, StepCredential, "/credential", token, map[string]any{
		"credential_configuration_id": configurationID, "proofs": map[string]any{"jwt": []string{proof}}}, dp)
	if err != nil {
		return Credential{}, err
	}
	return credentialAnswer(a), nil
}

// PollDeferred asks the deferred credential endpoint for the credentials of transactionID: 202 while they are
// not ready (TransactionID and Interval set), 200 with them, or a refusal, all as a Credential.
func (c *Client) PollDeferred(ctx context.Context, token, transactionID string) (Credential, error) {
	a, err := c.postJSON(ctx, StepCredential, "/deferred-credential", token, map[string]any{"transaction_id": transactionID})
	if err != nil {
		return Credential{}, err
	}
	return credentialAnswer(a), nil
}

// credentialAnswer reads a credential or deferred credential response.
func credentialAnswer(a *answer) Credential {
	out := Credential{Status: a.status, NotificationID: a.str("notification_id"), ErrorCode: a.errorCode(),
		Description: a.str("error_description"), RetryAfter: a.header.Get("Retry-After"),
		TransactionID: a.str("transaction_id")}
	if n, ok := a.body["interval"].(float64); ok {
		out.Interval = int(n)
	}
	if a.status != http.StatusOK {
		return out
	}
	list, _ := a.body["credentials"].([]any)
	for _, item := range list {
		obj, _ := item.(map[string]any)
		if s, _ := obj["credential"].(string); s != "" {
			out.Credentials = append(out.Credentials, s)
		}
	}
	return out
}

// Notify sends credential_accepted for notificationID.
func (c *Client) Notify(ctx context.Context, token, notificationID string) error {
	return c.NotifyEvent(ctx, token, notificationID, "credential_accepted", "")
}

// NotifyEvent sends a notification event (credential_accepted, credential_failure, credential_deleted) with an
// optional event_description.
func (c *Client) NotifyEvent(ctx context.Context, token, notificationID, event, description string) error {
	return c.notifyEvent(ctx, token, notificationID, event, description, nil)
}

// notifyEvent is NotifyEvent with a DPoP proof when dp is set.
func (c *Client) notifyEvent(ctx context.Context, token, notificationID, event, description string, dp *dpopSession) error {
	body := map[string]any{"notification_id": notificationID, "event": event}
	if description != "" {
		body["event_description"] = description
	}
	a, err := c.postJSONWith(ctx, StepNotification, "/notification", token, body, dp)
	if err != nil {
		return err
	}
	return expect(StepNotification, a, http.StatusNoContent)
}

// Run plays one full flow for definitionID: issue, offer, token, nonce, credential (one proof) and notification.
func (c *Client) Run(ctx context.Context, definitionID string) (Result, error) {
	begin := time.Now()
	var r Result
	offer, took, err := c.Issue(ctx, definitionID)
	if err != nil {
		return r, err
	}
	r.ExchangeID = offer.ExchangeID
	r.Steps[StepIssue], r.Steps[StepOffer] = took[0], took[1]

	var dp *dpopSession
	if c.DPoP {
		if dp, err = newDPoPSession(); err != nil {
			return r, &StepError{Step: StepToken, Err: err}
		}
	}
	start := time.Now()
	token, err := c.redeem(ctx, TokenRequest{Code: offer.Code}, dp)
	if err != nil {
		return r, err
	}
	if dp != nil {
		r.NonceRetries = dp.retries
	}
	r.Steps[StepToken] = time.Since(start)
	c.stepDone(StepToken)
	if err := c.finish(ctx, &r, offer, token, dp); err != nil {
		return r, err
	}
	r.Total = time.Since(begin)
	return r, nil
}

// finish runs the steps every flow ends with once it has its access token: nonce, credential (a fresh holder key)
// and notification.
func (c *Client) finish(ctx context.Context, r *Result, offer Offer, token string, dp *dpopSession) error {
	start := time.Now()
	nonce, err := c.Nonce(ctx)
	if err != nil {
		return err
	}
	r.Steps[StepNonce] = time.Since(start)
	c.stepDone(StepNonce)

	holder, err := NewHolder()
	if err != nil {
		return &StepError{Step: StepCredential, Err: err}
	}
	start = time.Now()
	cred, err := c.requestCredential(ctx, token, offer.Issuer, offer.ConfigurationID, holder, nonce, dp)
	if err != nil {
		return err
	}
	if cred.Status != http.StatusOK || len(cred.Credentials) != 1 || cred.NotificationID == "" {
		return &StepError{Step: StepCredential, Status: cred.Status, Code: cred.ErrorCode}
	}
	r.Steps[StepCredential] = time.Since(start)
	c.stepDone(StepCredential)

	start = time.Now()
	if err := c.notifyEvent(ctx, token, cred.NotificationID, "credential_accepted", "", dp); err != nil {
		return err
	}
	r.Steps[StepNotification] = time.Since(start)
	c.stepDone(StepNotification)
	return nil
}
