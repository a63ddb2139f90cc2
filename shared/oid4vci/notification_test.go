package oid4vci

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseNotificationRequest(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		ct       string
		want     *NotificationRequest
		wantDesc string
	}{
		{name: "accepted", body: `{"notification_id":"3fwe98js","event":"credential_accepted"}`,
			want: &NotificationRequest{NotificationID: "3fwe98js", Event: EventCredentialAccepted}},
		{name: "failure with description", body: `{"notification_id":"n","event":"credential_failure","event_description":"Could not store the Credential. Out of storage."}`,
			want: &NotificationRequest{NotificationID: "n", Event: EventCredentialFailure, EventDescription: "Could not store the Credential. Out of storage."}},
		{name: "deleted, unknown member ignored", body: `{"notification_id":"n","event":"credential_deleted","x":[1]}`,
			want: &NotificationRequest{NotificationID: "n", Event: EventCredentialDeleted}},
		{name: "missing id", body: `{"event":"credential_accepted"}`, wantDesc: "notification_id is required"},
		{name: "empty id", body: `{"notification_id":"","event":"credential_accepted"}`, wantDesc: "notification_id is required"},
		{name: "id not a string", body: `{"notification_id":1,"event":"credential_accepted"}`, wantDesc: "notification_id is required"},
		{name: "missing event", body: `{"notification_id":"n"}`, wantDesc: "event is required"},
		{name: "event wrong case", body: `{"notification_id":"n","event":"Credential_Accepted"}`, wantDesc: "case sensitive"},
		{name: "unknown event", body: `{"notification_id":"n","event":"credential_revoked"}`, wantDesc: "one of"},
		{name: "description with quote", body: `{"notification_id":"n","event":"credential_failure","event_description":"say \"hi\""}`, wantDesc: "printable ASCII"},
		{name: "description non-ASCII", body: `{"notification_id":"n","event":"credential_failure","event_description":"Speicher voll: ü"}`, wantDesc: "printable ASCII"},
		{name: "description too long", body: `{"notification_id":"n","event":"credential_failure","event_description":"` + strings.Repeat("a", MaxEventDescription+1) + `"}`, wantDesc: "longer than"},
		{name: "description not a string", body: `{"notification_id":"n","event":"credential_failure","event_description":5}`, wantDesc: "must be a string"},
		{name: "repeated event", body: `{"notification_id":"n","event":"credential_failure","event":"credential_accepted"}`, wantDesc: "repeats the parameter event"},
		{name: "not an object", body: `"credential_accepted"`, wantDesc: "one JSON object"},
		{name: "form body", ct: "application/x-www-form-urlencoded", body: `notification_id=n`, wantDesc: "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = "application/json"
			}
			got, err := ParseNotificationRequest([]byte(tc.body), ct)
			if tc.want == nil {
				pe := protocolError(t, err, ErrInvalidNotificationRequest)
				if !strings.Contains(pe.Description, tc.wantDesc) {
					t.Fatalf("description %q does not contain %q", pe.Description, tc.wantDesc)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
