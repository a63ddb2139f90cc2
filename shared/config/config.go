// Package config turns the environment of a function into typed, validated configuration at cold start. Every
// error names the variable and says how to fix it; values that could be secret are never echoed.
package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// Defaults of the optional variables.
const (
	DefaultRetentionDays = 30
	// DefaultOfferValidityMinutes is how long an offer and its pre-authorized code work unless configured.
	DefaultOfferValidityMinutes = 60
	// MinOfferValidityMinutes and MaxOfferValidityMinutes bound OFFER_VALIDITY_MINUTES (5 minutes to 30 days).
	MinOfferValidityMinutes = 5
	MaxOfferValidityMinutes = 30 * 24 * 60
	DefaultEventSource      = "sdjwt-issuer"
	// MaxRetentionDays bounds RETENTION_DAYS so that TTL arithmetic stays far from overflow.
	MaxRetentionDays = 3650
)

// Environment variable names.
const (
	EnvIssuerURL = "ISSUER_URL"
	// EnvIssuerURLParameter names an SSM parameter holding the issuer URL, read at cold start when ISSUER_URL is
	// not set (template.yaml's default: the API's stage URL, which the functions' environment cannot reference).
	EnvIssuerURLParameter = "ISSUER_URL_PARAMETER"
	EnvTableName          = "TABLE_NAME"
	EnvKMSKeyID           = "KMS_KEY_ID"
	EnvEventBusName       = "EVENT_BUS_NAME"
	EnvEventSource        = "EVENT_SOURCE"
	EnvAdminAPIKeyHashes  = "ADMIN_API_KEY_HASHES"
	EnvRetentionDays      = "RETENTION_DAYS"
	// EnvOfferValidityMinutes is how long an offer and its pre-authorized code work (capped by the retention).
	EnvOfferValidityMinutes = "OFFER_VALIDITY_MINUTES"
	// EnvNonceKey is the base64 of the 32-byte key of stateless c_nonces, shared by the functions.
	EnvNonceKey    = "NONCE_KEY"
	EnvLogLevel    = "LOG_LEVEL"
	EnvRequireDPoP = "REQUIRE_DPOP"
	EnvWalletTrust = "WALLET_TRUST_ANCHORS"
	// EnvIssuerTrust lists the trust files (PEM roots or JWKS) of the credential issuers whose credentials holders
	// may present in a dynamic credential request, besides this issuer and a definition's trustedIssuers.
	EnvIssuerTrust = "ISSUER_TRUST_ANCHORS"
	// EnvHolderAuthentication is the deployment default of a definition's holderAuthentication.
	EnvHolderAuthentication = "HOLDER_AUTHENTICATION"
	// EnvClientAttestationMaxLifetimeHours is the longest client (wallet) attestation lifetime accepted, in hours
	// (default 720: 30 days, 1 to 8760).
	EnvClientAttestationMaxLifetimeHours = "CLIENT_ATTESTATION_MAX_LIFETIME_HOURS"
)

// MaxClientAttestationMaxLifetimeHours bounds CLIENT_ATTESTATION_MAX_LIFETIME_HOURS (a year).
const MaxClientAttestationMaxLifetimeHours = 8760

// Config is the configuration every function reads from its environment (docs/design.md).
type Config struct {
	// IssuerURL is the credential issuer identifier, byte for byte as configured (no trailing slash). It may
	// have a path (e.g. the API's stage URL https://ID.execute-api.REGION.amazonaws.com/prod).
	IssuerURL string
	// IssuerURLParameter is the SSM parameter to read IssuerURL from when ISSUER_URL is not set; empty otherwise.
	// IssuerURL stays empty until SetIssuerURL gives it the parameter's value.
	IssuerURLParameter string
	// TableName is the DynamoDB table.
	TableName string
	// KMSKeyID is the signing key's id, ARN or alias.
	KMSKeyID string
	// EventBusName is the EventBridge bus; empty means events are only logged.
	EventBusName string
	// EventSource is the `source` of published events.
	EventSource string
	// AdminAPIKeyHashes are the lower-case hex SHA-256 hashes of the accepted admin API keys; empty accepts none.
	AdminAPIKeyHashes []string
	// RetentionDays is how long exchange records live (DynamoDB TTL).
	RetentionDays int
	// OfferValidityMinutes is how long an offer and its pre-authorized code work.
	OfferValidityMinutes int
	// NonceKey is the AES-256 key of stateless c_nonces (NONCE_KEY); the key of the DPoP server nonces is derived
	// from it (dpop.KeyFrom). nil: each process draws its own c_nonce key, and DPoP proofs need no server nonce.
	NonceKey []byte
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// Trust is the encryption and certificate configuration (trust.go).
	Trust Trust
	// RequireDPoP is the deployment default of a credential definition's requireDpop: whether bearer access
	// tokens are refused (false: a wallet without DPoP gets a bearer token).
	RequireDPoP bool
	// WalletTrustAnchors are the paths of the trust files of the wallet providers (wallettrust); relative paths
	// are resolved against LAMBDA_TASK_ROOT when it is set.
	WalletTrustAnchors []string
	// IssuerTrustAnchors are the paths of the trust files of credential issuers (ISSUER_TRUST_ANCHORS), read like
	// WalletTrustAnchors.
	IssuerTrustAnchors []string
	// HolderAuthentication is how the authorization endpoint authenticates the holder of an offer whose
	// definition says nothing: "id_token" (the default: the wallet proves a key or DID with an ID token) or
	// "issuer_state" (the offer's issuer_state identifies the holder, no further step).
	HolderAuthentication string
	// ClientAttestationMaxLifetimeHours is CLIENT_ATTESTATION_MAX_LIFETIME_HOURS; 0: unset, the default of
	// clientattest.DefaultMaxLifetime (30 days) applies.
	ClientAttestationMaxLifetimeHours int
}

// Retention is RetentionDays as a duration.
func (c Config) Retention() time.Duration {
	return time.Duration(c.RetentionDays) * 24 * time.Hour
}

// OfferValidity is OfferValidityMinutes as a duration.
func (c Config) OfferValidity() time.Duration {
	return time.Duration(c.OfferValidityMinutes) * time.Minute
}

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) {
	return Load(os.Getenv)
}

// Load reads the configuration through getenv and reports every invalid or missing variable at once.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		IssuerURL:    getenv(EnvIssuerURL),
		TableName:    strings.TrimSpace(getenv(EnvTableName)),
		KMSKeyID:     strings.TrimSpace(getenv(EnvKMSKeyID)),
		EventBusName: strings.TrimSpace(getenv(EnvEventBusName)),
		EventSource:  strings.TrimSpace(getenv(EnvEventSource)),
	}
	var errs []error
	fail := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.IssuerURL == "" && strings.TrimSpace(getenv(EnvIssuerURLParameter)) != "" {
		c.IssuerURLParameter = strings.TrimSpace(getenv(EnvIssuerURLParameter))
	} else {
		fail(checkIssuerURL(c.IssuerURL))
	}
	fail(required(EnvTableName, c.TableName, "the DynamoDB table name"))
	fail(required(EnvKMSKeyID, c.KMSKeyID, "the signing key's ARN or alias (alias/NAME)"))
	var err error
	c.EventSource, err = eventSource(c.EventSource)
	fail(err)
	c.AdminAPIKeyHashes, err = parseHashes(getenv(EnvAdminAPIKeyHashes))
	fail(err)
	c.RetentionDays, err = parseRetention(getenv(EnvRetentionDays))
	fail(err)
	c.OfferValidityMinutes, err = parseOfferValidity(getenv(EnvOfferValidityMinutes))
	fail(err)
	if raw := strings.TrimSpace(getenv(EnvNonceKey)); raw != "" {
		if c.NonceKey, err = exchange.CNonceKeyFrom(raw); err != nil {
			fail(fmt.Errorf("%s: %w", EnvNonceKey, err))
		}
	}
	c.LogLevel, err = parseLevel(getenv(EnvLogLevel))
	fail(err)
	c.Trust, err = loadTrust(getenv)
	fail(err)
	c.RequireDPoP, err = parseBool(EnvRequireDPoP, getenv(EnvRequireDPoP))
	fail(err)
	c.WalletTrustAnchors = trustPaths(getenv(EnvWalletTrust), getenv("LAMBDA_TASK_ROOT"))
	c.IssuerTrustAnchors = trustPaths(getenv(EnvIssuerTrust), getenv("LAMBDA_TASK_ROOT"))
	switch c.HolderAuthentication = strings.TrimSpace(getenv(EnvHolderAuthentication)); c.HolderAuthentication {
	case "":
		c.HolderAuthentication = "id_token"
	case "id_token", "issuer_state":
	default:
		fail(fmt.Errorf("%s must be id_token (the wallet proves a key or DID with an ID token, the default) or "+
			"issuer_state (the offer identifies the holder)", EnvHolderAuthentication))
	}
	if raw := strings.TrimSpace(getenv(EnvClientAttestationMaxLifetimeHours)); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxClientAttestationMaxLifetimeHours {
			fail(fmt.Errorf("%s %q is not a whole number of hours from 1 to %d: set it, or unset it for 720 (30 days)",
				EnvClientAttestationMaxLifetimeHours, raw, MaxClientAttestationMaxLifetimeHours))
		}
		c.ClientAttestationMaxLifetimeHours = n
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// eventSource is the EVENT_SOURCE value, DefaultEventSource when empty.
func eventSource(v string) (string, error) {
	if v == "" {
		return DefaultEventSource, nil
	}
	if strings.HasPrefix(v, "aws.") || len(v) > 256 {
		return "", fmt.Errorf("%s must not start with \"aws.\" and must be at most 256 characters: set it to e.g. %q",
			EnvEventSource, DefaultEventSource)
	}
	return v, nil
}

// Publisher is the configuration of the publisher function (functions/publisher), which reads only what it
// publishes with: it needs no issuer URL, table, key or secret (its input is the table's stream).
type Publisher struct {
	// EventBusName is the EventBridge bus; empty means events are only logged.
	EventBusName string
	// EventSource is the `source` of published events.
	EventSource string
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
}

// LoadPublisher reads the publisher's configuration through getenv, reporting every invalid variable at once.
func LoadPublisher(getenv func(string) string) (Publisher, error) {
	p := Publisher{EventBusName: strings.TrimSpace(getenv(EnvEventBusName))}
	var errs []error
	var err error
	if p.EventSource, err = eventSource(strings.TrimSpace(getenv(EnvEventSource))); err != nil {
		errs = append(errs, err)
	}
	if p.LogLevel, err = parseLevel(getenv(EnvLogLevel)); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Publisher{}, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return p, nil
}

// SetIssuerURL validates and sets the issuer URL read from the SSM parameter IssuerURLParameter.
func (c *Config) SetIssuerURL(value string) error {
	if err := checkIssuerURL(value); err != nil {
		return fmt.Errorf("SSM parameter %s (%s): %w", c.IssuerURLParameter, EnvIssuerURLParameter, err)
	}
	c.IssuerURL = value
	return nil
}

// IssuerPath is the path of the issuer URL ("" or e.g. "/prod"): the base path under which the API's routes are
// reached, like an API Gateway stage or a custom domain's base path mapping.
func (c Config) IssuerPath() string {
	return IssuerPath(c.IssuerURL)
}

// IssuerPath is the path of a valid issuer URL ("" when it has none).
func IssuerPath(issuerURL string) string {
	u, err := url.Parse(issuerURL)
	if err != nil {
		return ""
	}
	return u.EscapedPath()
}

func required(name, value, what string) error {
	if value == "" {
		return fmt.Errorf("%s is not set: set it to %s", name, what)
	}
	return nil
}

// issuerPathRe is the path an issuer URL may have: segments of unreserved characters (RFC 3986), so that the path
// reads the same escaped and unescaped and the gateway and the handlers compare it byte for byte.
var issuerPathRe = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)*$`)

// checkIssuerURL accepts an absolute https URL without query, fragment or trailing slash (OID4VCI's credential
// issuer identifier, compared byte for byte by wallets), and http only on loopback hosts for local runs. A path
// (e.g. an API Gateway stage, /prod) is accepted when its segments are plain: the API serves its routes under it
// and the well-known documents both inserted before it (/.well-known/openid-credential-issuer/prod, OID4VCI 1.0
// section 12.2.2) and appended to it (docs/design.md, "Issuer URL with a path").
func checkIssuerURL(raw string) error {
	const fix = "set it to the issuer's public base URL, e.g. https://issuer.example.com"
	if raw == "" {
		return fmt.Errorf("%s is not set: %s", EnvIssuerURL, fix)
	}
	if strings.TrimSpace(raw) != raw {
		return fmt.Errorf("%s has leading or trailing spaces: remove them", EnvIssuerURL)
	}
	if strings.HasSuffix(raw, "/") {
		return fmt.Errorf("%s %q ends in \"/\": remove the trailing slash (wallets compare the identifier byte for byte)", EnvIssuerURL, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s is not a URL: %s", EnvIssuerURL, fix)
	}
	if u.User != nil {
		// Not echoed: user information may hold a password.
		return fmt.Errorf("%s holds user information (user:password@): remove it", EnvIssuerURL)
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%s %q is not an absolute URL with a host: %s", EnvIssuerURL, raw, fix)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%s %q has a query or fragment: remove it", EnvIssuerURL, raw)
	}
	if !issuerPathRe.MatchString(u.EscapedPath()) || u.EscapedPath() != u.Path {
		return fmt.Errorf("%s %q has a path with characters other than letters, digits and -._~ between "+
			"slashes: use a plain path like /prod, or none", EnvIssuerURL, raw)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%s %q has a . or .. path segment: remove it", EnvIssuerURL, raw)
		}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("%s %q uses http: use https (http is accepted only for localhost)", EnvIssuerURL, raw)
		}
	default:
		return fmt.Errorf("%s %q must use https: %s", EnvIssuerURL, raw, fix)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseHashes splits ADMIN_API_KEY_HASHES on commas; entries must be 64 hex characters. Entries are named by
// position, never echoed.
func parseHashes(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	parts := strings.Split(raw, ",")
	hashes := make([]string, 0, len(parts))
	for i, p := range parts {
		p = strings.ToLower(strings.TrimSpace(p))
		b, err := hex.DecodeString(p)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("%s entry %d of %d is not a hex SHA-256 (64 hex characters): "+
				"set it to comma-separated `printf %%s KEY | sha256sum` values", EnvAdminAPIKeyHashes, i+1, len(parts))
		}
		hashes = append(hashes, p)
	}
	return hashes, nil
}

func parseRetention(raw string) (int, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DefaultRetentionDays, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 || n > MaxRetentionDays {
		return 0, fmt.Errorf("%s %q is not a whole number of days from 1 to %d: set it, or unset it for %d",
			EnvRetentionDays, raw, MaxRetentionDays, DefaultRetentionDays)
	}
	return n, nil
}

func parseOfferValidity(raw string) (int, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DefaultOfferValidityMinutes, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < MinOfferValidityMinutes || n > MaxOfferValidityMinutes {
		return 0, fmt.Errorf("%s %q is not a whole number of minutes from %d to %d: set it, or unset it for %d",
			EnvOfferValidityMinutes, raw, MinOfferValidityMinutes, MaxOfferValidityMinutes, DefaultOfferValidityMinutes)
	}
	return n, nil
}

// LogLevel reads only LOG_LEVEL through getenv (default info): for functions that need no other configuration,
// such as the console, which holds no data.
func LogLevel(getenv func(string) string) (slog.Level, error) {
	return parseLevel(getenv(EnvLogLevel))
}

// ServedOverHTTPS reads only ISSUER_URL through getenv and reports whether the deployment is reached over https:
// true unless the issuer URL is plain http (a local run). On AWS it is https, or unset when the functions read the
// API's https stage URL from ISSUER_URL_PARAMETER. The console, which reads no other configuration, decides its
// Strict-Transport-Security by it.
func ServedOverHTTPS(getenv func(string) string) bool {
	return !strings.HasPrefix(strings.ToLower(strings.TrimSpace(getenv(EnvIssuerURL))), "http://")
}

// trustPaths splits WALLET_TRUST_ANCHORS on commas; relative paths are relative to root (the function bundle on
// Lambda) when root is set.
func trustPaths(raw, root string) []string {
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if root != "" && !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		out = append(out, p)
	}
	return out
}

func parseLevel(raw string) (slog.Level, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return slog.LevelInfo, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(raw)); err != nil {
		return 0, fmt.Errorf("%s %q is not a level: set it to debug, info, warn or error", EnvLogLevel, raw)
	}
	return l, nil
}
