package faults

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// retryable is what a wallet must be told when the issuer cannot sign or store now: 503 (or 500) server_error with
// a description, so that it retries later with a fresh nonce.
func retryable(t *testing.T, cred flow.Credential) {
	t.Helper()
	if (cred.Status != http.StatusServiceUnavailable && cred.Status != http.StatusInternalServerError) ||
		cred.ErrorCode != "server_error" || cred.Description == "" {
		t.Errorf("credential answer: HTTP %d %q %q, want 503 (or 500) server_error with a description",
			cred.Status, cred.ErrorCode, cred.Description)
	}
}

func issued(t *testing.T, cred flow.Credential) {
	t.Helper()
	if cred.Status != http.StatusOK || len(cred.Credentials) != 1 || cred.NotificationID == "" {
		t.Fatalf("credential answer: HTTP %d %q, %d credentials; want 200 with one credential", cred.Status, cred.ErrorCode, len(cred.Credentials))
	}
	if _, err := sdjwt.Parse(cred.Credentials[0]); err != nil {
		t.Fatalf("issued credential does not parse: %v", err)
	}
}

// TestKMSUnavailableDuringCredential: KMS refuses connections (a warm function whose Sign fails, a cold one that
// cannot even read the public key). The wallet gets a retryable error, the table is exactly as before, and a
// retry with a fresh nonce after KMS is back issues the credential.
func TestKMSUnavailableDuringCredential(t *testing.T) {
	tests := []struct {
		name    string
		warm    bool
		pattern string
	}{
		{"warm function, Sign refused", true, "KMS.Sign"},
		{"cold function, every KMS call refused", false, "KMS.*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, 0)
			if tt.warm {
				e.warm()
			}
			r := e.redeem()
			nonce := e.nonce()
			before := e.items()
			e.inj.Set(tt.pattern, Rule{Mode: Refuse})
			cred := e.credential(r, nonce)
			retryable(t, cred)
			if cred.Status == http.StatusServiceUnavailable && cred.RetryAfter == "" && tt.warm {
				t.Errorf("503 without Retry-After")
			}
			e.inj.Clear()
			e.sameItems(before, e.items())
			issued(t, e.credential(r, e.nonce()))
			if s := e.history(r.offer.ExchangeID)["status"]; s != "credential_issued" {
				t.Errorf("status after the retry: %v", s)
			}
		})
	}
}

// TestKMSSlow: a slow KMS within the integration timeout only slows the answer; one slower than it gives the
// wallet API Gateway's 504, leaves the table unchanged (the function's context ends, so nothing is recorded), and
// a retry succeeds.
func TestKMSSlow(t *testing.T) {
	const timeout = 2 * time.Second
	tests := []struct {
		name   string
		delay  time.Duration
		status int
	}{
		{"slower than usual", 300 * time.Millisecond, http.StatusOK},
		{"slower than the integration timeout", 2 * timeout, http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, timeout)
			e.warm()
			r := e.redeem()
			nonce := e.nonce()
			before := e.items()
			e.inj.Set("KMS.Sign", Rule{Mode: Delay, Delay: tt.delay})
			cred := e.credential(r, nonce)
			if cred.Status != tt.status {
				t.Fatalf("credential answer: HTTP %d %q, want %d", cred.Status, cred.ErrorCode, tt.status)
			}
			if tt.status == http.StatusOK {
				issued(t, cred)
				return
			}
			// The function keeps running in-process after the gateway gave up; its context is cancelled, so its
			// KMS call ends at once. Look at the table once it has returned.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := e.srv.WaitInvocations(ctx); err != nil {
				t.Fatal(err)
			}
			e.inj.Clear()
			e.sameItems(before, e.items())
			issued(t, e.credential(r, e.nonce()))
		})
	}
}

// TestDynamoDBUnavailable: DynamoDB refuses connections during each step. The caller gets 503, nothing is half
// written (the table is exactly as before), and the same request succeeds once DynamoDB is back.
func TestDynamoDBUnavailable(t *testing.T) {
	tests := []struct {
		name string
		step flow.Step
	}{
		{"issue", flow.StepIssue},
		{"offer", flow.StepOffer},
		{"token", flow.StepToken},
		{"nonce", flow.StepNonce},
		{"credential", flow.StepCredential},
		{"notification", flow.StepNotification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, 0)
			e.warm()
			ctx := context.Background()
			var (
				offer    flow.Offer
				offerURI string
				token    string
				cred     flow.Credential
				err      error
			)
			// Everything before the step, without faults.
			if tt.step > flow.StepIssue {
				if _, offerURI, err = e.c.CreateExchange(ctx, e.def); err != nil {
					t.Fatal(err)
				}
			}
			if tt.step > flow.StepOffer {
				if offer, err = e.c.FetchOffer(ctx, offerURI); err != nil {
					t.Fatal(err)
				}
			}
			if tt.step > flow.StepToken {
				if token, err = e.c.Token(ctx, offer.Code); err != nil {
					t.Fatal(err)
				}
			}
			if tt.step > flow.StepCredential {
				cred = e.credential(redeemed{offer, token}, e.nonce())
				issued(t, cred)
			}
			act := func() (int, string) {
				switch tt.step {
				case flow.StepIssue:
					_, _, err := e.c.CreateExchange(ctx, e.def)
					return stepStatus(err)
				case flow.StepOffer:
					_, err := e.c.FetchOffer(ctx, offerURI)
					return stepStatus(err)
				case flow.StepToken:
					_, err := e.c.Token(ctx, offer.Code)
					return stepStatus(err)
				case flow.StepNonce:
					_, err := e.c.Nonce(ctx)
					return stepStatus(err)
				case flow.StepCredential:
					c := e.credential(redeemed{offer, token}, e.nonce())
					if c.Status == http.StatusOK {
						return 0, ""
					}
					return c.Status, c.ErrorCode
				default:
					err := e.c.Notify(ctx, token, cred.NotificationID)
					return stepStatus(err)
				}
			}
			// For the credential step the nonce is fetched before the fault; the others need none.
			if tt.step == flow.StepCredential {
				n := e.nonce()
				before := e.items()
				e.inj.Set("DynamoDB.*", Rule{Mode: Refuse})
				c := e.credential(redeemed{offer, token}, n)
				e.inj.Clear()
				if c.Status != http.StatusServiceUnavailable || c.ErrorCode != "server_error" {
					t.Errorf("credential with DynamoDB down: HTTP %d %q, want 503 server_error", c.Status, c.ErrorCode)
				}
				e.sameItems(before, e.items())
				issued(t, e.credential(redeemed{offer, token}, e.nonce()))
				return
			}
			before := e.items()
			e.inj.Set("DynamoDB.*", Rule{Mode: Refuse})
			status, code := act()
			e.inj.Clear()
			if tt.step == flow.StepNonce {
				// Stateless c_nonces (docs/security.md, "Nonce endpoint writes"): the nonce endpoint needs no
				// DynamoDB, so it answers while DynamoDB is down, and writes nothing.
				if status != 0 {
					t.Errorf("nonce with DynamoDB down: HTTP %d %q, want success", status, code)
				}
				e.sameItems(before, e.items())
				return
			}
			if status != http.StatusServiceUnavailable {
				t.Errorf("%s with DynamoDB down: HTTP %d %q, want 503", tt.name, status, code)
			}
			e.sameItems(before, e.items())
			if status, code := act(); status != 0 {
				t.Errorf("%s after DynamoDB is back: HTTP %d %q, want success", tt.name, status, code)
			}
		})
	}
}

// TestCrashBetweenSigningAndRecording: the credential function signs, then dies before its write is recorded
// (the write never reaches DynamoDB), or after DynamoDB applied it but before the wallet got the answer. Either
// way the wallet's retry with the same key and a fresh nonce gets a credential of its own exchange: a new one
// when nothing was recorded, the recorded one (the same string, no second signature) when the write was applied.
// The record holds the credentials of one issuance, never two, and a retry with another key is refused.
func TestCrashBetweenSigningAndRecording(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
	}{
		{"write never sent", Refuse},
		{"write applied, answer lost", LoseAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, 0)
			e.warm()
			r := e.redeem()
			h := e.holder()
			ask := func(h *flow.Holder) flow.Credential {
				t.Helper()
				cred, err := e.c.RequestCredential(context.Background(), r.token, r.offer.Issuer, r.offer.ConfigurationID, h, e.nonce())
				if err != nil {
					t.Fatal(err)
				}
				return cred
			}
			signs := e.inj.Hits("KMS.Sign")
			e.inj.Set("DynamoDB.TransactWriteItems", Rule{Mode: tt.mode})
			first := ask(h)
			e.inj.Clear()
			if e.inj.Hits("KMS.Sign") == signs {
				t.Fatal("the fault hit before signing; this test needs a signed, unrecorded credential")
			}
			if first.Status == http.StatusOK {
				t.Fatalf("the crashed request answered 200")
			}
			recorded, _ := e.history(r.offer.ExchangeID)["credentialToken"].(string)
			if (tt.mode == LoseAnswer) != (recorded != "") {
				t.Fatalf("credentialToken recorded: %v after %s", recorded != "", tt.name)
			}
			signs = e.inj.Hits("KMS.Sign")
			retry := ask(h)
			issued(t, retry)
			v, err := sdjwt.Parse(retry.Credentials[0])
			if err != nil {
				t.Fatal(err)
			}
			if v.Payload["vct"] != "LoadTestCredential" {
				t.Errorf("retry got a credential of %v", v.Payload["vct"])
			}
			rec := e.history(r.offer.ExchangeID)
			if tt.mode == LoseAnswer {
				if retry.Credentials[0] != recorded || rec["credentialToken"] != recorded {
					t.Errorf("the retry after a lost answer did not get the recorded credential")
				}
				if e.inj.Hits("KMS.Sign") != signs {
					t.Errorf("the retry after a lost answer signed again")
				}
			}
			if rec["status"] != "credential_issued" {
				t.Errorf("status %v, want credential_issued", rec["status"])
			}
			if creds, _ := rec["credentials"].([]any); len(creds) != 1 {
				t.Errorf("the record holds %d credentials, want those of one issuance (1)", len(creds))
			}
			if other := ask(e.holder()); other.Status != http.StatusBadRequest || other.ErrorCode != "credential_request_denied" {
				t.Errorf("retry with another key: HTTP %d %q, want 400 credential_request_denied", other.Status, other.ErrorCode)
			}
			if after := e.history(r.offer.ExchangeID); after["credentialToken"] != rec["credentialToken"] {
				t.Errorf("the retry with another key changed the recorded credentials")
			}
		})
	}
}

// TestFloods: many wallets race with one pre-authorized code, or one c_nonce. Exactly one wins; every other gets
// the OAuth error of a used code or nonce, never a 5xx and never a second credential.
func TestFloods(t *testing.T) {
	const racers = 12
	tests := []struct {
		name    string
		allowed []string
		race    func(e *env, n int) []result
	}{
		{"one code", []string{"invalid_grant"}, func(e *env, n int) []result {
			offer, _, err := e.c.Issue(context.Background(), e.def)
			if err != nil {
				e.t.Fatal(err)
			}
			return flood(n, func() result {
				_, err := e.c.Token(context.Background(), offer.Code)
				s, code := stepStatus(err)
				if err == nil {
					s = http.StatusOK
				}
				return result{s, code}
			})
		}},
		{"one nonce, one exchange", []string{"invalid_nonce", "credential_request_denied"}, func(e *env, n int) []result {
			r := e.redeem()
			nonce := e.nonce()
			return flood(n, func() result {
				c := e.credential(r, nonce)
				return result{c.Status, c.ErrorCode}
			})
		}},
		{"one nonce, many exchanges", []string{"invalid_nonce"}, func(e *env, n int) []result {
			rs := make([]redeemed, n)
			for i := range rs {
				rs[i] = e.redeem()
			}
			nonce := e.nonce()
			var mu sync.Mutex
			next := 0
			return flood(n, func() result {
				mu.Lock()
				r := rs[next]
				next++
				mu.Unlock()
				c := e.credential(r, nonce)
				return result{c.Status, c.ErrorCode}
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, 0)
			e.warm()
			got := tt.race(e, racers)
			wins := 0
			for _, r := range got {
				switch {
				case r.status == http.StatusOK:
					wins++
				case r.status == http.StatusBadRequest && contains(tt.allowed, r.code):
				default:
					t.Errorf("a racer got HTTP %d %q, want 200 or 400 %v", r.status, r.code, tt.allowed)
				}
			}
			if wins != 1 {
				t.Errorf("%d racers won, want exactly 1", wins)
			}
		})
	}
}

type result struct {
	status int
	code   string
}

// flood runs fn n times at once, released together.
func flood(n int, fn func() result) []result {
	out := make([]result, n)
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			out[i] = fn()
		}()
	}
	ready.Wait()
	close(gate)
	done.Wait()
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
