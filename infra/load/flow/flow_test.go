package flow

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		lat  []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 100", ms(seq(100)...), 99, 99 * time.Millisecond},
		{"p100 is the max", ms(1, 2, 9), 100, 9 * time.Millisecond},
		{"p0 is zero", ms(1, 2), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Stats{Latencies: tt.lat}).Percentile(tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestPerSecond(t *testing.T) {
	tests := []struct {
		st   Stats
		want float64
	}{
		{Stats{Completed: 10, Elapsed: 2 * time.Second}, 5},
		{Stats{Completed: 10}, 0},
	}
	for _, tt := range tests {
		if got := tt.st.PerSecond(); got != tt.want {
			t.Errorf("PerSecond(%+v) = %v, want %v", tt.st, got, tt.want)
		}
	}
}

func TestStepErrorNamesNoSecret(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&StepError{Step: StepToken, Status: 400, Code: "invalid_grant"}, "token: HTTP 400 invalid_grant"},
		{&StepError{Step: StepCredential, Status: 503}, "credential: HTTP 503"},
		{&StepError{Step: StepOffer, Err: errors.New("connection refused")}, "offer: connection refused"},
		{&StepError{Step: StepNonce, Status: 200, Err: errors.New("no c_nonce")}, "nonce: HTTP 200: no c_nonce"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if got := describe(tt.err); strings.Contains(got, "refused") {
			t.Errorf("describe(%v) = %q keeps the transport message", tt.err, got)
		}
	}
}

func TestOfferURI(t *testing.T) {
	tests := []struct {
		link, want string
		wantErr    bool
	}{
		{"openid-credential-offer://?credential_offer_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcredential-offer%2Fabc", "http://127.0.0.1:3000/credential-offer/abc", false},
		{"openid-credential-offer://", "", true},
		{"openid-credential-offer://?credential_offer=%7B%7D", "", true},
		{"x://?%zz", "", true},
	}
	for _, tt := range tests {
		got, err := OfferURI(tt.link)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("OfferURI(%q) = %q, %v; want %q, error %v", tt.link, got, err, tt.want, tt.wantErr)
		}
	}
}
