package exchange_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

func TestChangeEvents(t *testing.T) {
	base := exchange.Record{CredentialExchangeID: "ex", Status: exchange.StatusOfferSent, IssuanceMode: exchange.ModeDeferred,
		CredentialStatus: exchange.CredentialPending, SupportRevocation: true, RevocationStatus: exchange.RevocationOperational,
		CredentialOffer: "openid-credential-offer://?credential_offer_uri=secret", CredentialToken: "eyJ.cred~",
		Version: 1, UpdatedAt: 1700000000}
	with := func(f func(*exchange.Record)) *exchange.Record {
		r := base.Clone()
		r.Version++
		r.UpdatedAt += 60
		f(&r)
		return &r
	}
	tests := []struct {
		name          string
		before, after *exchange.Record
		want          []string
	}{
		{"created", nil, &base, []string{"credential.offer_sent"}},
		{"deleted or expired", &base, nil, nil},
		{"status moved", &base, with(func(r *exchange.Record) { r.Status = exchange.StatusOfferReceived }), []string{"credential.offer_received"}},
		{"claims arrived", &base, with(func(r *exchange.Record) { r.CredentialStatus = exchange.CredentialReady }), []string{"credential.ready"}},
		{"claims arrived with a status change", &base, with(func(r *exchange.Record) {
			r.CredentialStatus, r.Status = exchange.CredentialReady, exchange.StatusOfferReceived
		}), []string{"credential.offer_received", "credential.ready"}},
		{"revoked", &base, with(func(r *exchange.Record) { r.RevocationStatus = exchange.RevocationRevoked }),
			[]string{"credential.revocation_status_changed"}},
		{"a record of before revocation statuses suspended", with(func(r *exchange.Record) { r.RevocationStatus = "" }),
			with(func(r *exchange.Record) { r.RevocationStatus = exchange.RevocationSuspended }), []string{"credential.revocation_status_changed"}},
		{"revocation status written for the first time: no change", with(func(r *exchange.Record) { r.RevocationStatus = "" }),
			&base, nil},
		{"presentation verified, the code issued", &base, with(func(r *exchange.Record) {
			r.Status, r.PresentationExchangeID = exchange.StatusOfferReceived, "pe-1"
		}), []string{"credential.offer_received", "credential.presentation_verified"}},
		{"presentation verified after a refusal", with(func(r *exchange.Record) {
			r.PresentationFailure = &exchange.PresentationFailure{Reason: "wrong nonce", At: 1700000060, Count: 1}
		}), with(func(r *exchange.Record) { r.PresentationExchangeID = "pe-1" }), []string{"credential.presentation_verified"}},
		{"the same verified presentation written again: no event", with(func(r *exchange.Record) { r.PresentationExchangeID = "pe-1" }),
			with(func(r *exchange.Record) { r.PresentationExchangeID = "pe-1"; r.FailedNonces = 1 }), nil},
		{"presentation refused", &base, with(func(r *exchange.Record) {
			r.PresentationFailure = &exchange.PresentationFailure{Reason: "wrong nonce", At: 1700000060, Count: 1}
		}), []string{"credential.presentation_failed"}},
		{"a second refusal alike in the same second", with(func(r *exchange.Record) {
			r.PresentationFailure = &exchange.PresentationFailure{Reason: "wrong nonce", At: 1700000060, Count: 1}
		}), with(func(r *exchange.Record) {
			r.PresentationFailure = &exchange.PresentationFailure{Reason: "wrong nonce", At: 1700000060, Count: 2}
		}), []string{"credential.presentation_failed"}},
		{"a refusal kept by a later write: no event", with(func(r *exchange.Record) {
			r.PresentationFailure = &exchange.PresentationFailure{Reason: "wrong nonce", At: 1700000060, Count: 1}
		}), with(func(r *exchange.Record) {
			r.PresentationFailure = &exchange.PresentationFailure{Reason: "wrong nonce", At: 1700000060, Count: 1}
			r.AccessTokenHash = "h"
		}), nil},
		{"a wallet-initiated exchange created after its presentation: its creation only", nil, with(func(r *exchange.Record) {
			r.Status, r.PresentationExchangeID = exchange.StatusOfferReceived, "pe-1"
		}), []string{"credential.offer_received"}},
		{"a write that changes nothing subscribers see", &base, with(func(r *exchange.Record) { r.AccessTokenHash = "h"; r.FailedNonces = 2 }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := exchange.ChangeEvents(tt.before, tt.after)
			var got []string
			for _, e := range evs {
				got = append(got, e.DetailType)
				if e.ExchangeID != "ex" || e.Detail.Version != tt.after.Version || !e.Time.Equal(time.Unix(tt.after.UpdatedAt, 0)) {
					t.Errorf("event %s: id %s version %d time %v, want the record's after the write", e.DetailType, e.ExchangeID,
						e.Detail.Version, e.Time)
				}
				if e.Detail.CredentialOffer != "" || e.Detail.CredentialToken != "" || len(e.Detail.Credentials) != 0 {
					t.Errorf("event %s carries the offer link, a credential or claims", e.DetailType)
				}
				id, dt, v := e.Key()
				if id != e.ExchangeID || dt != e.DetailType || v != e.Detail.Version {
					t.Errorf("Key() = %s %s %d", id, dt, v)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("events %v, want %v", got, tt.want)
			}
		})
	}
}
