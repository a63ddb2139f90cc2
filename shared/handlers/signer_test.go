package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// TestColdStartWarnsOfAChainThatEndsSoon (issue 16): a signing function whose ISSUER_CERT_CHAIN stops validating
// within ISSUER_CERT_RENEWAL_DAYS (default 30) warns at cold start, naming when, and still signs (the chain is
// valid; credentials then expire with it, wallet.capValidity); a chain that lasts longer is set up in silence.
func TestColdStartWarnsOfAChainThatEndsSoon(t *testing.T) {
	const issuer = "https://issuer.example"
	key, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	root, err := issuercert.NewCA("Root", now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		leafDays, renewalDays int
		warn                  bool
	}{
		{leafDays: 10, warn: true},
		{leafDays: 40},
		{leafDays: 40, renewalDays: 60, warn: true},
		{leafDays: 10, renewalDays: 5},
	} {
		leaf, err := root.Issue(key.CryptoSigner(context.Background()).Public(), issuercert.Subject{IssuerURL: issuer},
			now.Add(-time.Hour), now.AddDate(0, 0, tc.leafDays))
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		d := &Deps{Config: config.Config{IssuerURL: issuer, Trust: config.Trust{IssuerCertChain: issuercert.PEM(leaf, root.Cert),
			IssuerCertRenewalDays: tc.renewalDays}}, Log: slog.New(slog.NewTextHandler(&log, nil)), Now: func() time.Time { return now }}
		k, err := certifyKey(key, d)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if _, err := keys.SignJWS(context.Background(), k, []byte(`{}`), nil); err != nil {
			t.Fatalf("%+v: a chain still valid must sign: %v", tc, err)
		}
		warned := strings.Contains(log.String(), "level=WARN") && strings.Contains(log.String(), "ISSUER_CERT_CHAIN") &&
			strings.Contains(log.String(), leaf.NotAfter.UTC().Format(time.RFC3339))
		if warned != tc.warn {
			t.Errorf("leaf of %d days, renewal %d days: warned %v, want %v (log %q)", tc.leafDays, tc.renewalDays,
				warned, tc.warn, log.String())
		}
	}
}
