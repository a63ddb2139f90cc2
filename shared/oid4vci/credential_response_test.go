package oid4vci

import (
	"encoding/json"
	"testing"
)

func TestBuildCredentialResponse(t *testing.T) {
	nonce := &CNonce{Value: "n2", ExpiresInSeconds: 300}
	tests := []struct {
		name       string
		dialect    Dialect
		shape      ProofShape
		iss        Issuance
		wantStatus int
		want       string
		wantErr    bool
	}{
		{name: "1.0 one credential", dialect: DialectV1, iss: Issuance{Credentials: []string{"sd1~"}, NotificationID: "nid", CNonce: nonce},
			wantStatus: 200, want: `{"credentials":[{"credential":"sd1~"}],"notification_id":"nid"}`},
		{name: "1.0 batch", dialect: DialectV1, iss: Issuance{Credentials: []string{"sd1~", "sd2~"}},
			wantStatus: 200, want: `{"credentials":[{"credential":"sd1~"},{"credential":"sd2~"}]}`},
		{name: "1.0 deferred", dialect: DialectV1, iss: Issuance{TransactionID: "tx", Interval: 3600, NotificationID: "ignored"},
			wantStatus: 202, want: `{"transaction_id":"tx","interval":3600}`},
		{name: "1.0 deferred default interval", dialect: DialectV1, iss: Issuance{TransactionID: "tx"},
			wantStatus: 202, want: `{"transaction_id":"tx","interval":60}`},
		{name: "draft 13 single proof", dialect: DialectDraft13, shape: ProofSingle,
			iss:        Issuance{Credentials: []string{"sd1~"}, NotificationID: "nid", Format: FormatLegacySDJWTVC, CNonce: nonce},
			wantStatus: 200, want: `{"format":"vc+sd-jwt","credential":"sd1~","c_nonce":"n2","c_nonce_expires_in":300,"notification_id":"nid"}`},
		{name: "draft 13 proofs batch", dialect: DialectDraft13, shape: ProofsArray,
			iss:        Issuance{Credentials: []string{"sd1~", "sd2~"}, Format: FormatLegacySDJWTVC, CNonce: nonce},
			wantStatus: 200, want: `{"format":"vc+sd-jwt","credentials":["sd1~","sd2~"],"c_nonce":"n2","c_nonce_expires_in":300}`},
		{name: "draft 13 deferred", dialect: DialectDraft13, shape: ProofSingle, iss: Issuance{TransactionID: "tx", CNonce: nonce},
			wantStatus: 200, want: `{"transaction_id":"tx","interval":60,"c_nonce":"n2","c_nonce_expires_in":300}`},
		{name: "draft 12", dialect: DialectDraft12, shape: ProofSingle, iss: Issuance{Credentials: []string{"sd1~"}, Format: FormatLegacySDJWTVC, CNonce: nonce},
			wantStatus: 200, want: `{"format":"vc+sd-jwt","credential":"sd1~","c_nonce":"n2","c_nonce_expires_in":300}`},
		{name: "draft 15 single proof answered as 1.0", dialect: DialectDraft15, shape: ProofSingle,
			iss:        Issuance{Credentials: []string{"sd1~"}, NotificationID: "nid", Format: FormatSDJWTVC, CNonce: nonce},
			wantStatus: 200, want: `{"credentials":[{"credential":"sd1~"}],"notification_id":"nid"}`},
		{name: "draft 15 deferred", dialect: DialectDraft15, shape: ProofSingle, iss: Issuance{TransactionID: "tx", CNonce: nonce},
			wantStatus: 202, want: `{"transaction_id":"tx","interval":60}`},
		{name: "nothing", dialect: DialectV1, iss: Issuance{}, wantErr: true},
		{name: "both", dialect: DialectV1, iss: Issuance{Credentials: []string{"a"}, TransactionID: "t"}, wantErr: true},
		{name: "empty credential", dialect: DialectV1, iss: Issuance{Credentials: []string{""}}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := BuildCredentialResponse(tc.dialect, tc.shape, tc.iss)
			checkResponse(t, status, body, err, tc.wantStatus, tc.want, tc.wantErr)
		})
	}
}

func TestBuildDeferredCredentialResponse(t *testing.T) {
	tests := []struct {
		name       string
		dialect    Dialect
		shape      ProofShape
		iss        Issuance
		wantStatus int
		want       string
		wantErr    bool
	}{
		{name: "1.0 ready, notification_id left out", dialect: DialectV1, iss: Issuance{Credentials: []string{"sd1~"}, NotificationID: "nid"},
			wantStatus: 200, want: `{"credentials":[{"credential":"sd1~"}]}`},
		{name: "1.0 pending", dialect: DialectV1, iss: Issuance{TransactionID: "tx", Interval: 30},
			wantStatus: 202, want: `{"transaction_id":"tx","interval":30}`},
		{name: "draft 13 ready", dialect: DialectDraft13, shape: ProofSingle, iss: Issuance{Credentials: []string{"sd1~"}, Format: FormatLegacySDJWTVC},
			wantStatus: 200, want: `{"format":"vc+sd-jwt","credential":"sd1~"}`},
		{name: "draft 13 pending", dialect: DialectDraft13, iss: Issuance{TransactionID: "tx", Interval: 30},
			wantStatus: 400, want: `{"error":"issuance_pending","error_description":"the credential is not ready yet; retry after interval seconds","interval":30}`},
		{name: "draft 12 pending default interval", dialect: DialectDraft12, iss: Issuance{TransactionID: "tx"},
			wantStatus: 400, want: `{"error":"issuance_pending","error_description":"the credential is not ready yet; retry after interval seconds","interval":60}`},
		{name: "nothing", dialect: DialectV1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := BuildDeferredCredentialResponse(tc.dialect, tc.shape, tc.iss)
			checkResponse(t, status, body, err, tc.wantStatus, tc.want, tc.wantErr)
		})
	}
}

func checkResponse(t *testing.T, status int, body any, err error, wantStatus int, want string, wantErr bool) {
	t.Helper()
	if wantErr {
		if err == nil {
			t.Fatalf("want an error, got %d %v", status, body)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if status != wantStatus || string(b) != want {
		t.Fatalf("got  %d %s\nwant %d %s", status, b, wantStatus, want)
	}
}
