package jwtverify

import (
	"math"
	"time"
)

// Defaults of the time checks.
const (
	// DefaultMaxAge is how old (by iat) a proof may be when Window.MaxAge is zero.
	DefaultMaxAge = 5 * time.Minute
	// DefaultSkew is how far a wallet's clock may be ahead (iat, nbf) or behind (exp) when Window.Skew is zero.
	DefaultSkew = time.Minute
)

// Window is the time against which a JWT's iat, exp and nbf are checked.
type Window struct {
	// Now is the current time; required.
	Now time.Time
	// MaxAge is how old iat may be; DefaultMaxAge when zero, no limit when negative.
	MaxAge time.Duration
	// Skew is the tolerated clock difference; DefaultSkew when zero.
	Skew time.Duration
}

// SkewOrDefault is Skew with its default applied.
func (w Window) SkewOrDefault() time.Duration { return w.skew() }

func (w Window) skew() time.Duration {
	if w.Skew <= 0 {
		return DefaultSkew
	}
	return w.Skew
}

// MaxAgeOrDefault is MaxAge with its default applied (negative: no limit).
func (w Window) MaxAgeOrDefault() time.Duration {
	if w.MaxAge == 0 {
		return DefaultMaxAge
	}
	return w.MaxAge
}

// Date converts a NumericDate claim (RFC 7519: seconds since the epoch, possibly fractional) to a time; ok is false
// when the claim is absent.
func Date(v *float64) (t time.Time, ok bool, err error) {
	if v == nil {
		return time.Time{}, false, nil
	}
	f := *v
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return time.Time{}, true, Errorf("out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// IssuedAt checks iat: present when required, not after Now plus the skew, not older than MaxAge. what names the
// JWT in reasons.
func (w Window) IssuedAt(iat *float64, required bool, what string) (time.Time, error) {
	t, ok, err := Date(iat)
	switch {
	case err != nil:
		return time.Time{}, Errorf("%s iat must be a number of seconds since the epoch", what)
	case !ok && required:
		return time.Time{}, Errorf("%s must carry iat: the time it was created, in seconds since the epoch", what)
	case !ok:
		return time.Time{}, nil
	}
	if t.After(w.Now.Add(w.skew())) {
		return time.Time{}, Errorf("%s iat lies more than %d seconds in the future; check the wallet clock", what, int(w.skew().Seconds()))
	}
	if age := w.MaxAgeOrDefault(); age > 0 && t.Before(w.Now.Add(-age)) {
		return time.Time{}, Errorf("%s is older than %d seconds (by iat); create a fresh one", what, int(age.Seconds()))
	}
	return t, nil
}

// Expiry checks exp (present when required, not passed beyond the skew) and nbf (not after Now plus the skew).
func (w Window) Expiry(exp, nbf *float64, required bool, what string) (time.Time, error) {
	e, ok, err := Date(exp)
	switch {
	case err != nil:
		return time.Time{}, Errorf("%s exp must be a number of seconds since the epoch", what)
	case !ok && required:
		return time.Time{}, Errorf("%s must carry exp", what)
	case ok && !w.Now.Before(e.Add(w.skew())):
		return time.Time{}, Errorf("%s has expired (exp)", what)
	}
	n, nok, err := Date(nbf)
	switch {
	case err != nil:
		return time.Time{}, Errorf("%s nbf must be a number of seconds since the epoch", what)
	case nok && n.After(w.Now.Add(w.skew())):
		return time.Time{}, Errorf("%s is not valid yet (nbf); check the clocks", what)
	}
	return e, nil
}
