// Package vpverify verifies the vp_token a holder presents in a dynamic credential request: every presentation is
// an SD-JWT VC with a key binding JWT, signed by a trusted issuer (this issuer itself; one of the presentation
// definition's trustedIssuers, whose keys come from its /.well-known/jwt-vc-issuer; or a party of
// ISSUER_TRUST_ANCHORS, by an x5c chain to a configured root naming the issuer, or a configured key), not expired,
// not revoked or suspended on its status list, its key binding JWT carrying this request's nonce and client_id (aud),
// the sd_hash of the presentation, and exactly the transaction_data_hashes of the transaction data sent for its
// credential query; and the presentations together satisfy the DCQL query or the Presentation Exchange definition.
// Nothing else is accepted. Other issuers' documents come through a Fetcher (shared/issuerdoc: SSRF-safe HTTP
// with timeouts and a cache), this issuer's own statuses through an OwnStatus (the store).
package vpverify

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/dcql"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/openid4vp"
	"github.com/sdjwt-issuer/issuer/shared/pex"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

// Fetcher gets other issuers' documents.
type Fetcher interface {
	// IssuerKeys returns the public keys of a credential issuer from its JWT VC issuer metadata (the document's
	// issuer must be the one asked for).
	IssuerKeys(ctx context.Context, issuer string) (jwk.Set, error)
	// StatusListToken returns the status list token served at uri.
	StatusListToken(ctx context.Context, uri string) (string, error)
}

// OwnStatus reads the status of an entry of this issuer's own status lists (revocation.StatusLists).
type OwnStatus interface {
	StatusOf(ctx context.Context, uri string, idx int) (statuslist.Status, error)
}

// Options configure a Verifier.
type Options struct {
	// IssuerURL is this issuer's identifier: credentials whose iss it is are verified with OwnKeys.
	IssuerURL string
	// OwnKeys are this issuer's public keys (its /.well-known/jwt-vc-issuer JWKS).
	OwnKeys jwk.Set
	// OwnStatus reads this issuer's status lists; required.
	OwnStatus OwnStatus
	// Anchors are ISSUER_TRUST_ANCHORS (nil or empty: none).
	Anchors *wallettrust.Anchors
	// Fetcher gets other issuers' keys and status lists; required.
	Fetcher Fetcher
	// Now is the clock (time.Now by default).
	Now func() time.Time
}

// Verifier verifies presentations. Safe for concurrent use.
type Verifier struct {
	o Options
}

// New checks the options.
func New(o Options) (*Verifier, error) {
	switch {
	case o.IssuerURL == "":
		return nil, errors.New("new presentation verifier: issuer URL is required")
	case o.OwnKeys == nil || o.OwnKeys.Len() == 0:
		return nil, errors.New("new presentation verifier: the issuer's own keys are required")
	case o.OwnStatus == nil || o.Fetcher == nil:
		return nil, errors.New("new presentation verifier: own status and fetcher are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Verifier{o: o}, nil
}

// Expectation is what one presentation request asked for.
type Expectation struct {
	// Definition is the exchange's copy of the presentation definition.
	Definition presentationdef.Spec
	// ClientID is the request's client_id (the KB-JWT's aud).
	ClientID string
	// NonceMatches reports whether a KB-JWT's nonce is the request's (the nonce is kept only as a hash); nil
	// compares with Nonce.
	NonceMatches func(string) bool
	// Nonce is the request's nonce, when it is kept in the clear (tests).
	Nonce string
	// TransactionData are the transaction_data strings the request carried.
	TransactionData []string
}

// Credential is one verified presented credential.
type Credential struct {
	// QueryID is the DCQL credential query id or the input descriptor id it answers.
	QueryID string `json:"queryId"`
	// Issuer and VCT are its iss and vct.
	Issuer string `json:"issuer"`
	VCT    string `json:"vct"`
	// TrustedBy says why its issuer is trusted: "this issuer", "trustedIssuers" or "ISSUER_TRUST_ANCHORS".
	TrustedBy string `json:"trustedBy"`
	// Status is "valid" (its status list says so) or "no status" (it has no status list entry).
	Status string `json:"status"`
	// KeyThumbprint is the RFC 7638 thumbprint of its holder key (cnf.jwk).
	KeyThumbprint string `json:"keyThumbprint"`
	// Claims are its verified claims, without the SD-JWT VC's own (iss, vct, iat, nbf, exp, cnf, status).
	Claims map[string]any `json:"claims"`

	// typ and all are the issuer-signed JWT's typ and every verified claim, for the query's evaluation; hashes
	// and hashAlg the KB-JWT's transaction_data_hashes and transaction_data_hashes_alg.
	typ     string
	all     map[string]any
	hashes  []string
	hashAlg string
}

// Result is a verified vp_token.
type Result struct {
	// Credentials are the presented credentials in the order of the vp_token.
	Credentials []Credential
}

// Error is a refused presentation. Reason says why, for the wallet and for the exchange record; it never quotes a
// presented value.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

func refused(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// Verify verifies the wallet's response against what the request expected.
func (v *Verifier) Verify(ctx context.Context, exp Expectation, resp *openid4vp.Response) (*Result, error) {
	if resp.Error != "" {
		return nil, refused("the wallet answered with an error (%s) instead of a presentation", errorCode(resp.Error))
	}
	q, err := exp.Definition.Query()
	if err != nil {
		return nil, fmt.Errorf("presentation definition of the exchange: %w", err)
	}
	tok, err := openid4vp.ParseVPToken(resp.VPToken, q != nil)
	if err != nil {
		return nil, refused("%s", strings.TrimPrefix(err.Error(), openid4vp.ErrResponse.Error()+": "))
	}
	var res *Result
	if q != nil {
		res, err = v.verifyDCQL(ctx, exp, q, tok)
	} else {
		res, err = v.verifyPE(ctx, exp, tok, resp.PresentationSubmission)
	}
	if err != nil {
		return nil, err
	}
	if err := checkTransactionData(exp.TransactionData, res); err != nil {
		return nil, err
	}
	return res, nil
}

// errorCode echoes a wallet's error code only when it is one of OpenID4VP's (section 8.5) or OAuth's.
func errorCode(code string) string {
	switch code {
	case "access_denied", "invalid_request", "invalid_client", "invalid_scope", "vp_formats_not_supported",
		"invalid_request_uri_method", "invalid_transaction_data", "wallet_unavailable", "server_error":
		return code
	}
	return "an unregistered error code"
}

func (v *Verifier) verifyDCQL(ctx context.Context, exp Expectation, q *dcql.Query, tok *openid4vp.VPToken) (*Result, error) {
	res := &Result{}
	presented := map[string][]dcql.Presented{}
	ids := make([]string, 0, len(tok.ByQuery))
	for id := range tok.ByQuery {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	known := map[string]bool{}
	for _, c := range q.Credentials {
		known[c.ID] = true
	}
	for _, id := range ids {
		if !known[id] {
			return nil, refused("the vp_token holds an entry for a credential query id that the query does not have")
		}
		for _, p := range tok.ByQuery[id] {
			c, err := v.verifyOne(ctx, exp, p, id)
			if err != nil {
				return nil, err
			}
			res.Credentials = append(res.Credentials, *c)
			presented[id] = append(presented[id], dcql.Presented{Typ: c.typ, VCT: c.VCT, Claims: c.all})
		}
	}
	if err := q.Evaluate(presented); err != nil {
		return nil, refused("%s", err.Error())
	}
	return res, nil
}

func (v *Verifier) verifyPE(ctx context.Context, exp Expectation, tok *openid4vp.VPToken, submission string) (*Result, error) {
	d, err := exp.Definition.PresentationExchange()
	if err != nil {
		return nil, fmt.Errorf("presentation definition of the exchange: %w", err)
	}
	if d == nil {
		return nil, errors.New("presentation definition of the exchange: it holds neither a DCQL query nor a presentation definition")
	}
	if submission == "" {
		return nil, refused("presentation_submission is required with a presentation_definition request")
	}
	sub, err := pex.ParseSubmission([]byte(submission))
	if err != nil {
		return nil, refused("%s", err.Error())
	}
	verified := make([]*Credential, len(tok.List))
	presented := make([]pex.Presented, len(tok.List))
	for i, p := range tok.List {
		// The query id is known after the submission is evaluated; the key binding does not depend on it.
		c, err := v.verifyOne(ctx, exp, p, "")
		if err != nil {
			return nil, err
		}
		verified[i] = c
		presented[i] = pex.Presented{Typ: c.typ, Claims: c.all}
	}
	mapped, err := d.Evaluate(sub, presented, tok.Single)
	if err != nil {
		return nil, refused("%s", err.Error())
	}
	for id, idx := range mapped {
		for _, i := range idx {
			verified[i].QueryID = id
		}
	}
	res := &Result{}
	for _, c := range verified {
		res.Credentials = append(res.Credentials, *c)
	}
	return res, nil
}

// reservedClaims are the SD-JWT VC's own claims, recorded apart from the presented claims.
var reservedClaims = []string{"iss", "vct", "iat", "nbf", "exp", "cnf", "status", "vct#integrity", "sub"}

// verifyOne verifies one presentation: the issuer's trust and signature, the disclosures, validity, key binding
// (nonce, aud, sd_hash) and status.
func (v *Verifier) verifyOne(ctx context.Context, exp Expectation, presentation, queryID string) (*Credential, error) {
	parsed, err := sdjwt.Parse(presentation)
	if err != nil {
		return nil, refused("a presentation is not an SD-JWT: %s", reason(err))
	}
	if parsed.KeyBindingJWT == "" {
		return nil, refused("a presentation has no key binding JWT: present the SD-JWT VC with a KB-JWT over this request's nonce and client_id")
	}
	iss, _ := parsed.Payload["iss"].(string)
	if iss == "" {
		return nil, refused("a presentation's credential has no iss")
	}
	trust, err := v.trust(ctx, exp, iss, parsed.JWT)
	if err != nil {
		return nil, err
	}
	verified, err := sdjwt.Verify(presentation, append(trust.opts, sdjwt.WithClock(v.o.Now))...)
	if err != nil {
		return nil, refused("a presentation does not verify: %s", reason(err))
	}
	matches := exp.NonceMatches
	if matches == nil {
		matches = func(n string) bool { return n == exp.Nonce }
	}
	switch kb := verified.KeyBinding; {
	case kb == nil:
		return nil, refused("a presentation has no key binding JWT")
	case kb.Audience != exp.ClientID:
		return nil, refused("a presentation does not verify: key binding: aud does not match (it must be this request's client_id)")
	case !matches(kb.Nonce):
		return nil, refused("a presentation does not verify: key binding: nonce does not match (it must be this request's nonce)")
	}
	c := &Credential{typ: fmt.Sprint(verified.Header["typ"]), all: verified.Claims}
	c.QueryID, c.Issuer, c.TrustedBy = queryID, iss, trust.by
	c.VCT, _ = verified.Claims["vct"].(string)
	if c.KeyThumbprint, err = holderThumbprint(verified.Claims); err != nil {
		return nil, err
	}
	if c.Status, err = v.status(ctx, trust, verified.Claims); err != nil {
		return nil, err
	}
	c.Claims = make(map[string]any, len(verified.Claims))
	for k, val := range verified.Claims {
		if !slices.Contains(reservedClaims, k) {
			c.Claims[k] = val
		}
	}
	kb := verified.KeyBinding.Claims
	if raw, ok := kb["transaction_data_hashes"]; ok {
		list, ok := raw.([]any)
		if !ok || len(list) == 0 {
			return nil, refused("the key binding JWT's transaction_data_hashes must be a non-empty array of strings")
		}
		for _, h := range list {
			s, ok := h.(string)
			if !ok {
				return nil, refused("the key binding JWT's transaction_data_hashes must be a non-empty array of strings")
			}
			c.hashes = append(c.hashes, s)
		}
	}
	if raw, ok := kb["transaction_data_hashes_alg"]; ok {
		if c.hashAlg, _ = raw.(string); c.hashAlg != openid4vp.HashAlg {
			return nil, refused("the key binding JWT's transaction_data_hashes_alg must be %s", openid4vp.HashAlg)
		}
	}
	return c, nil
}

// reason is an error's text without the package prefixes of shared/sdjwt.
func reason(err error) string {
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "verify sd-jwt: "), "parse sd-jwt: ")
}

// trusted is how a credential's issuer is trusted: the verification options for its signature, and what its
// status list token is verified with.
type trusted struct {
	by   string
	opts []sdjwt.VerifyOption
	own  bool
	// keyFor returns the key a JWT of this issuer (the status list token) is verified with.
	keyFor func(jwt string) (jwk.Key, error)
}

// trust decides whether iss is trusted and with which key, in this order: this issuer; a trustedIssuers entry of
// the definition (keys from its JWT VC issuer metadata); ISSUER_TRUST_ANCHORS (an x5c chain to a root, whose leaf
// names iss, or a configured key).
func (v *Verifier) trust(ctx context.Context, exp Expectation, iss, issuerJWT string) (*trusted, error) {
	if iss == v.o.IssuerURL {
		return &trusted{by: "this issuer", own: true, opts: []sdjwt.VerifyOption{sdjwt.WithIssuerKeySet(v.o.OwnKeys)}}, nil
	}
	var why string
	if slices.Contains(exp.Definition.TrustedIssuers, iss) {
		set, err := v.o.Fetcher.IssuerKeys(ctx, iss)
		if err == nil {
			return &trusted{by: "trustedIssuers", opts: []sdjwt.VerifyOption{sdjwt.WithIssuerKeySet(set)},
				keyFor: func(jwt string) (jwk.Key, error) { return keyOfSet(set, jwt) }}, nil
		}
		why = "its JWT VC issuer metadata could not be used: " + err.Error()
	}
	if !v.o.Anchors.Empty() {
		key, err := v.anchorKey(issuerJWT, iss)
		if err == nil {
			return &trusted{by: "ISSUER_TRUST_ANCHORS", opts: []sdjwt.VerifyOption{sdjwt.WithIssuerKey(key)},
				keyFor: func(jwt string) (jwk.Key, error) { return v.anchorKey(jwt, iss) }}, nil
		}
		if why == "" {
			why = err.Error()
		}
	}
	if why == "" {
		why = "it is neither this issuer, nor in the presentation definition's trustedIssuers, nor under ISSUER_TRUST_ANCHORS"
	}
	return nil, refused("a presentation's credential issuer is not trusted: %s", why)
}

// anchorKey verifies jwt (an issuer-signed JWT or a status list token) against ISSUER_TRUST_ANCHORS and returns the
// key that verified it; an x5c leaf must name iss (a URI SAN equal to it, or its host as a DNS SAN), as SD-JWT VC
// requires of x5c-based issuer keys.
func (v *Verifier) anchorKey(jwt, iss string) (jwk.Key, error) {
	tok, err := jwtverify.Parse(jwt, jwtverify.Rules{What: "the credential's issuer signature",
		Types: []string{"dc+sd-jwt", "vc+sd-jwt", statuslist.TokenType}, Algs: []string{"ES256"}})
	if err != nil {
		return nil, err
	}
	p, err := v.o.Anchors.Verify(tok, iss, v.o.Now())
	if err != nil {
		return nil, err
	}
	if p.Via == "x5c" && !namesIssuer(p.Chain[0], iss) {
		return nil, errors.New("the x5c leaf certificate does not name the issuer (no URI SAN equal to iss, no DNS SAN of its host)")
	}
	key, err := jwk.FromRaw(p.Key)
	if err != nil {
		return nil, fmt.Errorf("the trusted key: %w", err)
	}
	return key, nil
}

// namesIssuer reports whether a leaf certificate names the issuer identifier iss.
func namesIssuer(leaf *x509.Certificate, iss string) bool {
	for _, u := range leaf.URIs {
		if u.String() == iss {
			return true
		}
	}
	u, err := url.Parse(iss)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(leaf.DNSNames, func(n string) bool { return strings.EqualFold(n, u.Hostname()) })
}

// keyOfSet finds the key of set a JWT names by kid (or the only key).
func keyOfSet(set jwk.Set, jwt string) (jwk.Key, error) {
	tok, err := jwtverify.Parse(jwt, jwtverify.Rules{What: "the status list token", Types: []string{statuslist.TokenType},
		Algs: []string{"ES256"}})
	if err != nil {
		return nil, err
	}
	kid, _, err := tok.String("kid")
	if err != nil {
		return nil, err
	}
	if kid != "" {
		if k, ok := set.LookupKeyID(kid); ok {
			return k, nil
		}
		return nil, errors.New("no key of the issuer has the status list token's kid")
	}
	if set.Len() == 1 {
		k, _ := set.Key(0)
		return k, nil
	}
	return nil, errors.New("the status list token names no kid and the issuer has several keys")
}

// holderThumbprint is the RFC 7638 thumbprint of cnf.jwk.
func holderThumbprint(claims map[string]any) (string, error) {
	cnf, _ := claims["cnf"].(map[string]any)
	b, err := json.Marshal(cnf["jwk"])
	if err != nil {
		return "", refused("a presentation's credential has no holder key (cnf.jwk)")
	}
	key, err := jwk.ParseKey(b)
	if err != nil {
		return "", refused("a presentation's credential has no holder key (cnf.jwk)")
	}
	tp, err := keys.Thumbprint(key)
	if err != nil {
		return "", refused("a presentation's credential has no holder key (cnf.jwk)")
	}
	return tp, nil
}

// status checks the credential's status list entry: VALID passes; INVALID (revoked), SUSPENDED and any other
// status are refused, and so is another issuer's status that cannot be read; this issuer's own store failing is an
// error, not a refusal.
func (v *Verifier) status(ctx context.Context, t *trusted, claims map[string]any) (string, error) {
	raw, ok := claims["status"]
	if !ok {
		return "no status", nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return "", refused("a presentation's credential has an unreadable status claim")
	}
	var ref statuslist.Reference
	if err := json.Unmarshal(b, &ref); err != nil {
		return "", refused("a presentation's credential has a status claim without a valid status_list entry")
	}
	var st statuslist.Status
	if t.own {
		st, err = v.o.OwnStatus.StatusOf(ctx, ref.URI, ref.Idx)
		switch {
		case errors.Is(err, statuslist.ErrInvalidListID) || errors.Is(err, statuslist.ErrIndexOutOfRange):
			return "", refused("a presentation's credential names no entry of this issuer's status lists")
		case err != nil:
			// The store failed: not the presentation's fault. A plain error is a server error to the wallet, which
			// may post again (a refusal would end its session), and the store's words stay in the log.
			return "", fmt.Errorf("read this issuer's status of a presented credential: %w", err)
		}
	} else {
		token, err := v.o.Fetcher.StatusListToken(ctx, ref.URI)
		if err != nil {
			return "", refused("the status list of a presentation's credential cannot be fetched: %s", err.Error())
		}
		key, err := t.keyFor(token)
		if err != nil {
			return "", refused("the status list token of a presentation's credential is not signed by its issuer: %s", err.Error())
		}
		vt, err := statuslist.VerifyToken(token, key, statuslist.VerifyOptions{URI: ref.URI, Now: v.o.Now(), Leeway: time.Minute})
		if err != nil {
			return "", refused("the status list token of a presentation's credential does not verify")
		}
		if st, err = vt.Status(ref); err != nil {
			return "", refused("the status list of a presentation's credential has no such entry")
		}
	}
	switch st {
	case statuslist.Valid:
		return "valid", nil
	case statuslist.Invalid:
		return "", refused("a presentation's credential is revoked (its status list says INVALID)")
	case statuslist.Suspended:
		return "", refused("a presentation's credential is suspended (its status list says SUSPENDED)")
	}
	return "", refused("a presentation's credential has status %d on its status list, which is not VALID", st)
}

// checkTransactionData requires, for each transaction_data string sent, its hash in the key binding JWT of a
// presentation of one of its credential ids, and refuses any other hash (or hashes when none was sent).
func checkTransactionData(sent []string, res *Result) error {
	for _, td := range sent {
		ids, err := openid4vp.TransactionDataCredentialIDs(td)
		if err != nil {
			return fmt.Errorf("transaction data of the exchange: %w", err)
		}
		want := openid4vp.TransactionDataHash(td)
		confirmed := slices.ContainsFunc(res.Credentials, func(c Credential) bool {
			return slices.Contains(ids, c.QueryID) && slices.Contains(c.hashes, want)
		})
		if !confirmed {
			return refused("the transaction data is not confirmed: the key binding JWT of a presentation for one of " +
				"its credential_ids must carry its hash in transaction_data_hashes (base64url SHA-256 of the " +
				"transaction_data string as sent)")
		}
	}
	for _, c := range res.Credentials {
		for _, h := range c.hashes {
			ok := slices.ContainsFunc(sent, func(td string) bool {
				ids, _ := openid4vp.TransactionDataCredentialIDs(td)
				return openid4vp.TransactionDataHash(td) == h && slices.Contains(ids, c.QueryID)
			})
			if !ok {
				return refused("a key binding JWT carries a transaction_data_hashes entry for no transaction data of " +
					"this request for its credential")
			}
		}
	}
	return nil
}
