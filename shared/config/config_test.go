package config

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	hashA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	hashB = "60303AE22B998861BCE3B28F33EEC1BE758A213C86C93C076DBE9F558C11C752"
)

func env(overrides map[string]string) func(string) string {
	base := map[string]string{
		EnvIssuerURL: "https://issuer.example.com",
		EnvTableName: "issuer-table",
		EnvKMSKeyID:  "alias/sdjwt-issuer",
	}
	for k, v := range overrides {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"defaults", nil, Config{
			IssuerURL: "https://issuer.example.com", TableName: "issuer-table", KMSKeyID: "alias/sdjwt-issuer",
			EventSource: DefaultEventSource, RetentionDays: DefaultRetentionDays, OfferValidityMinutes: DefaultOfferValidityMinutes, LogLevel: slog.LevelInfo,
		}},
		{"everything set", map[string]string{
			EnvIssuerURL:         "https://issuer.example.com:8443",
			EnvKMSKeyID:          "arn:aws:kms:eu-west-1:111122223333:key/abc",
			EnvEventBusName:      "bus",
			EnvEventSource:       "my.issuer",
			EnvAdminAPIKeyHashes: hashA + ", " + hashB,
			EnvRetentionDays:     "7",
			EnvLogLevel:          "debug",
		}, Config{
			IssuerURL: "https://issuer.example.com:8443", TableName: "issuer-table",
			KMSKeyID: "arn:aws:kms:eu-west-1:111122223333:key/abc", EventBusName: "bus", EventSource: "my.issuer",
			AdminAPIKeyHashes: []string{hashA, strings.ToLower(hashB)}, RetentionDays: 7, OfferValidityMinutes: DefaultOfferValidityMinutes, LogLevel: slog.LevelDebug,
		}},
		{"local http issuer", map[string]string{EnvIssuerURL: "http://127.0.0.1:3000", EnvLogLevel: "WARN"}, Config{
			IssuerURL: "http://127.0.0.1:3000", TableName: "issuer-table", KMSKeyID: "alias/sdjwt-issuer",
			EventSource: DefaultEventSource, RetentionDays: DefaultRetentionDays, OfferValidityMinutes: DefaultOfferValidityMinutes, LogLevel: slog.LevelWarn,
		}},
		{"localhost issuer", map[string]string{EnvIssuerURL: "http://localhost:3000"}, Config{
			IssuerURL: "http://localhost:3000", TableName: "issuer-table", KMSKeyID: "alias/sdjwt-issuer",
			EventSource: DefaultEventSource, RetentionDays: DefaultRetentionDays, OfferValidityMinutes: DefaultOfferValidityMinutes, LogLevel: slog.LevelInfo,
		}},
		{"issuer with a path (API Gateway stage)", map[string]string{EnvIssuerURL: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"}, Config{
			IssuerURL: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod", TableName: "issuer-table", KMSKeyID: "alias/sdjwt-issuer",
			EventSource: DefaultEventSource, RetentionDays: DefaultRetentionDays, OfferValidityMinutes: DefaultOfferValidityMinutes, LogLevel: slog.LevelInfo,
		}},
		{"local issuer with a path", map[string]string{EnvIssuerURL: "http://localhost:3000/tenant/a-1.b_c~d"}, Config{
			IssuerURL: "http://localhost:3000/tenant/a-1.b_c~d", TableName: "issuer-table", KMSKeyID: "alias/sdjwt-issuer",
			EventSource: DefaultEventSource, RetentionDays: DefaultRetentionDays, OfferValidityMinutes: DefaultOfferValidityMinutes, LogLevel: slog.LevelInfo,
		}},
		{"issuer URL from SSM at cold start", map[string]string{EnvIssuerURL: "", EnvIssuerURLParameter: "/stack/issuer-url"}, Config{
			IssuerURLParameter: "/stack/issuer-url", TableName: "issuer-table", KMSKeyID: "alias/sdjwt-issuer",
			EventSource: DefaultEventSource, RetentionDays: DefaultRetentionDays, OfferValidityMinutes: DefaultOfferValidityMinutes, LogLevel: slog.LevelInfo,
		}},
		{"ISSUER_URL wins over the parameter", map[string]string{EnvIssuerURLParameter: "/stack/issuer-url"}, Config{
			IssuerURL: "https://issuer.example.com", TableName: "issuer-table", KMSKeyID: "alias/sdjwt-issuer",
			EventSource: DefaultEventSource, RetentionDays: DefaultRetentionDays, OfferValidityMinutes: DefaultOfferValidityMinutes, LogLevel: slog.LevelInfo,
		}},
		{"HAIP settings", map[string]string{EnvRequireDPoP: "true",
			EnvWalletTrust: " /etc/trust/a.pem , b.json,", EnvIssuerTrust: "issuers.pem", "LAMBDA_TASK_ROOT": "/var/task"}, Config{
			IssuerURL: "https://issuer.example.com", TableName: "issuer-table", KMSKeyID: "alias/sdjwt-issuer",
			EventSource: DefaultEventSource, RetentionDays: DefaultRetentionDays, LogLevel: slog.LevelInfo,
			OfferValidityMinutes: DefaultOfferValidityMinutes, RequireDPoP: true,
			WalletTrustAnchors: []string{"/etc/trust/a.pem", "/var/task/b.json"},
			IssuerTrustAnchors: []string{"/var/task/issuers.pem"},
		}},
		{"holder authentication by the offer", map[string]string{EnvHolderAuthentication: "issuer_state"}, Config{
			IssuerURL: "https://issuer.example.com", TableName: "issuer-table", KMSKeyID: "alias/sdjwt-issuer",
			EventSource: DefaultEventSource, RetentionDays: DefaultRetentionDays, OfferValidityMinutes: DefaultOfferValidityMinutes,
			LogLevel: slog.LevelInfo, HolderAuthentication: "issuer_state",
		}},
		{"issuer kept byte for byte", map[string]string{EnvIssuerURL: "https://Issuer.Example.com:443"}, Config{
			IssuerURL: "https://Issuer.Example.com:443", TableName: "issuer-table", KMSKeyID: "alias/sdjwt-issuer",
			EventSource: DefaultEventSource, RetentionDays: DefaultRetentionDays, OfferValidityMinutes: DefaultOfferValidityMinutes, LogLevel: slog.LevelInfo,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tt.want.HolderAuthentication == "" {
				tt.want.HolderAuthentication = "id_token" // the default
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Load =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	secretish := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeZ"
	tests := []struct {
		name     string
		env      map[string]string
		mentions []string
	}{
		{"no issuer", map[string]string{EnvIssuerURL: ""}, []string{EnvIssuerURL, "not set"}},
		{"trailing slash", map[string]string{EnvIssuerURL: "https://issuer.example.com/"}, []string{EnvIssuerURL, "trailing slash"}},
		{"path with trailing slash", map[string]string{EnvIssuerURL: "https://example.com/t/"}, []string{EnvIssuerURL, "trailing slash"}},
		{"escaped path", map[string]string{EnvIssuerURL: "https://example.com/a%2Fb"}, []string{EnvIssuerURL, "plain path"}},
		{"path with spaces", map[string]string{EnvIssuerURL: "https://example.com/a%20b"}, []string{EnvIssuerURL, "plain path"}},
		{"empty segment", map[string]string{EnvIssuerURL: "https://example.com/a//b"}, []string{EnvIssuerURL, "plain path"}},
		{"dot segment", map[string]string{EnvIssuerURL: "https://example.com/a/../b"}, []string{EnvIssuerURL, ". or .."}},
		{"neither URL nor parameter", map[string]string{EnvIssuerURL: "", EnvIssuerURLParameter: " "}, []string{EnvIssuerURL, "not set"}},
		{"http elsewhere", map[string]string{EnvIssuerURL: "http://issuer.example.com"}, []string{EnvIssuerURL, "https"}},
		{"other scheme", map[string]string{EnvIssuerURL: "ftp://issuer.example.com"}, []string{EnvIssuerURL, "https"}},
		{"relative", map[string]string{EnvIssuerURL: "issuer.example.com"}, []string{EnvIssuerURL, "absolute"}},
		{"query", map[string]string{EnvIssuerURL: "https://issuer.example.com?x=1"}, []string{EnvIssuerURL, "query"}},
		{"empty query", map[string]string{EnvIssuerURL: "https://issuer.example.com?"}, []string{EnvIssuerURL, "query"}},
		{"fragment", map[string]string{EnvIssuerURL: "https://issuer.example.com#f"}, []string{EnvIssuerURL, "fragment"}},
		{"user info", map[string]string{EnvIssuerURL: "https://u:" + secretish + "@issuer.example.com"}, []string{EnvIssuerURL, "user information"}},
		{"spaces", map[string]string{EnvIssuerURL: " https://issuer.example.com"}, []string{EnvIssuerURL, "spaces"}},
		{"no table", map[string]string{EnvTableName: ""}, []string{EnvTableName, "not set"}},
		{"no key", map[string]string{EnvKMSKeyID: "  "}, []string{EnvKMSKeyID, "not set"}},
		{"reserved source", map[string]string{EnvEventSource: "aws.kms"}, []string{EnvEventSource}},
		{"short hash", map[string]string{EnvAdminAPIKeyHashes: "abcd"}, []string{EnvAdminAPIKeyHashes, "entry 1 of 1"}},
		{"non-hex hash", map[string]string{EnvAdminAPIKeyHashes: hashA + "," + secretish}, []string{EnvAdminAPIKeyHashes, "entry 2 of 2"}},
		{"empty entry", map[string]string{EnvAdminAPIKeyHashes: hashA + ","}, []string{EnvAdminAPIKeyHashes, "entry 2 of 2"}},
		{"retention zero", map[string]string{EnvRetentionDays: "0"}, []string{EnvRetentionDays}},
		{"retention negative", map[string]string{EnvRetentionDays: "-3"}, []string{EnvRetentionDays}},
		{"retention words", map[string]string{EnvRetentionDays: "thirty"}, []string{EnvRetentionDays}},
		{"retention huge", map[string]string{EnvRetentionDays: "99999999999999999999"}, []string{EnvRetentionDays}},
		{"bad level", map[string]string{EnvLogLevel: "loud"}, []string{EnvLogLevel}},
		{"require dpop not a boolean", map[string]string{EnvRequireDPoP: "sometimes"}, []string{EnvRequireDPoP, "true or false"}},
		{"renewal days zero", map[string]string{EnvIssuerCertRenewalDays: "0"}, []string{EnvIssuerCertRenewalDays, "1 to 365"}},
		{"renewal days huge", map[string]string{EnvIssuerCertRenewalDays: "400"}, []string{EnvIssuerCertRenewalDays, "1 to 365"}},
		{"attestation lifetime zero", map[string]string{EnvClientAttestationMaxLifetimeHours: "0"}, []string{EnvClientAttestationMaxLifetimeHours, "1 to 8760"}},
		{"attestation lifetime words", map[string]string{EnvClientAttestationMaxLifetimeHours: "a month"}, []string{EnvClientAttestationMaxLifetimeHours}},
		{"unknown holder authentication", map[string]string{EnvHolderAuthentication: "password"}, []string{EnvHolderAuthentication, "issuer_state"}},
		{"several at once", map[string]string{EnvTableName: "", EnvKMSKeyID: ""}, []string{EnvTableName, EnvKMSKeyID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if strings.Contains(err.Error(), secretish[:20]) || strings.Contains(err.Error(), hashA) {
				t.Errorf("error echoes an API key hash: %q", err)
			}
		})
	}
}

func TestRenewalMargin(t *testing.T) {
	if got := (Trust{}).RenewalMargin(); got != DefaultIssuerCertRenewalDays*24*time.Hour {
		t.Errorf("default RenewalMargin = %v", got)
	}
	c, err := Load(env(map[string]string{EnvIssuerCertRenewalDays: "60"}))
	if err != nil || c.Trust.RenewalMargin() != 60*24*time.Hour {
		t.Errorf("ISSUER_CERT_RENEWAL_DAYS=60: %v, %v", c.Trust.RenewalMargin(), err)
	}
}

func TestClientAttestationMaxLifetime(t *testing.T) {
	c, err := Load(env(map[string]string{EnvClientAttestationMaxLifetimeHours: "24"}))
	if err != nil || c.ClientAttestationMaxLifetimeHours != 24 {
		t.Errorf("CLIENT_ATTESTATION_MAX_LIFETIME_HOURS=24: %d, %v", c.ClientAttestationMaxLifetimeHours, err)
	}
}

func TestRetention(t *testing.T) {
	if got := (Config{RetentionDays: 30}).Retention(); got != 30*24*time.Hour {
		t.Errorf("Retention = %v", got)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvIssuerURL, "https://issuer.example.com")
	t.Setenv(EnvTableName, "t")
	t.Setenv(EnvKMSKeyID, "k")
	t.Setenv(EnvRetentionDays, "")
	c, err := FromEnv()
	if err != nil || c.TableName != "t" || c.RetentionDays != DefaultRetentionDays {
		t.Errorf("FromEnv = %+v, %v", c, err)
	}
}

// TestOfferValidityMinutes (docs/security.md, "Long-lived offers"): OFFER_VALIDITY_MINUTES sets how long an offer
// and its code work, default 60, from 5 minutes to 30 days; anything else is refused naming the variable.
func TestOfferValidityMinutes(t *testing.T) {
	base := map[string]string{EnvIssuerURL: "https://issuer.example.com", EnvTableName: "t", EnvKMSKeyID: "k"}
	get := func(v string) func(string) string {
		return func(name string) string {
			if name == EnvOfferValidityMinutes {
				return v
			}
			return base[name]
		}
	}
	for raw, want := range map[string]time.Duration{"": time.Hour, "5": 5 * time.Minute, "1440": 24 * time.Hour, "43200": 30 * 24 * time.Hour} {
		c, err := Load(get(raw))
		if err != nil || c.OfferValidity() != want {
			t.Errorf("%s=%q: %v, %v; want %s", EnvOfferValidityMinutes, raw, c.OfferValidity(), err, want)
		}
	}
	for _, raw := range []string{"0", "4", "43201", "-1", "1h", "x"} {
		if _, err := Load(get(raw)); err == nil || !strings.Contains(err.Error(), EnvOfferValidityMinutes) {
			t.Errorf("%s=%q: %v, want a refusal naming the variable", EnvOfferValidityMinutes, raw, err)
		}
	}
}

func TestLogLevel(t *testing.T) {
	for raw, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, " WARN ": slog.LevelWarn} {
		got, err := LogLevel(func(name string) string {
			if name == EnvLogLevel {
				return raw
			}
			t.Errorf("LogLevel read %s", name)
			return ""
		})
		if err != nil || got != want {
			t.Errorf("LogLevel(%q) = %v, %v; want %v", raw, got, err, want)
		}
	}
	if _, err := LogLevel(func(string) string { return "loud" }); err == nil || !strings.Contains(err.Error(), EnvLogLevel) {
		t.Errorf("LogLevel(loud) = %v, want an error naming %s", err, EnvLogLevel)
	}
}

// TestServedOverHTTPS: the console, which reads no other configuration, sends HSTS unless ISSUER_URL is plain
// http (a local run); on AWS the issuer is https, or unset when the functions read the API's https stage URL from
// ISSUER_URL_PARAMETER.
func TestServedOverHTTPS(t *testing.T) {
	for _, tc := range []struct {
		issuerURL, parameter string
		want                 bool
	}{
		{"https://issuer.example.com", "", true},
		{"https://abc.execute-api.eu-west-1.amazonaws.com/prod", "", true},
		{"", "/stack/issuer-url", true},
		{"", "", true},
		{"http://127.0.0.1:3000", "", false},
		{" HTTP://localhost:3000 ", "", false},
	} {
		got := ServedOverHTTPS(func(name string) string {
			switch name {
			case EnvIssuerURL:
				return tc.issuerURL
			case EnvIssuerURLParameter:
				return tc.parameter
			}
			t.Errorf("ServedOverHTTPS read %s", name)
			return ""
		})
		if got != tc.want {
			t.Errorf("ISSUER_URL %q, ISSUER_URL_PARAMETER %q: %v, want %v", tc.issuerURL, tc.parameter, got, tc.want)
		}
	}
}

func TestSetIssuerURL(t *testing.T) {
	c := Config{IssuerURLParameter: "/stack/issuer-url"}
	if err := c.SetIssuerURL("https://abc123.execute-api.eu-west-1.amazonaws.com/prod"); err != nil {
		t.Fatal(err)
	}
	if c.IssuerURL != "https://abc123.execute-api.eu-west-1.amazonaws.com/prod" || c.IssuerPath() != "/prod" {
		t.Errorf("IssuerURL %q, IssuerPath %q", c.IssuerURL, c.IssuerPath())
	}
	err := (&Config{IssuerURLParameter: "/stack/issuer-url"}).SetIssuerURL("https://x.example.com/prod/")
	if err == nil || !strings.Contains(err.Error(), "/stack/issuer-url") || !strings.Contains(err.Error(), "trailing slash") {
		t.Errorf("SetIssuerURL with a trailing slash = %v, want an error naming the parameter and the fix", err)
	}
	if p := (Config{IssuerURL: "https://issuer.example.com"}).IssuerPath(); p != "" {
		t.Errorf("IssuerPath without a path = %q", p)
	}
}

// TestNonceKey (docs/security.md, "Nonce endpoint writes"): NONCE_KEY is a secret of at least 32 characters from
// which the c_nonce key is derived, optional, and a shorter one is refused naming the variable (never quoting it).
func TestNonceKey(t *testing.T) {
	base := map[string]string{EnvIssuerURL: "https://issuer.example.com", EnvTableName: "t", EnvKMSKeyID: "k"}
	get := func(v string) func(string) string {
		return func(name string) string {
			if name == EnvNonceKey {
				return v
			}
			return base[name]
		}
	}
	if c, err := Load(get("")); err != nil || c.NonceKey != nil {
		t.Errorf("unset: %v %v", c.NonceKey, err)
	}
	a, errA := Load(get(strings.Repeat("a", 64)))
	b, errB := Load(get(strings.Repeat("b", 64)))
	if errA != nil || errB != nil || len(a.NonceKey) != 32 || string(a.NonceKey) == string(b.NonceKey) {
		t.Errorf("valid secrets: %v %v, keys %x %x", errA, errB, a.NonceKey, b.NonceKey)
	}
	for _, bad := range []string{"short", strings.Repeat("x", 31)} {
		if _, err := Load(get(bad)); err == nil || !strings.Contains(err.Error(), EnvNonceKey) || strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v, want a refusal naming %s without the value", bad, err, EnvNonceKey)
		}
	}
}

func TestLoadPublisher(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	p, err := LoadPublisher(env(map[string]string{EnvEventBusName: " bus ", EnvLogLevel: "debug"}))
	if err != nil || p.EventBusName != "bus" || p.EventSource != DefaultEventSource || p.LogLevel != slog.LevelDebug {
		t.Fatalf("LoadPublisher = %+v, %v", p, err)
	}
	// It needs nothing else: no issuer URL, table, key or secret.
	if p, err := LoadPublisher(env(nil)); err != nil || p.EventBusName != "" {
		t.Fatalf("empty environment: %+v, %v (want events only logged)", p, err)
	}
	_, err = LoadPublisher(env(map[string]string{EnvEventSource: "aws.events", EnvLogLevel: "loud"}))
	if err == nil || !strings.Contains(err.Error(), EnvEventSource) || !strings.Contains(err.Error(), EnvLogLevel) {
		t.Fatalf("bad source and level: %v, want both named", err)
	}
}
