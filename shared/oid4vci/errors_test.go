package oid4vci

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func TestErrorBody(t *testing.T) {
	nonce := &CNonce{Value: "fresh", ExpiresInSeconds: 120}
	tests := []struct {
		name    string
		err     *Error
		dialect Dialect
		nonce   *CNonce
		want    string
		status  int
	}{
		{name: "1.0 invalid_nonce", err: Errorf(ErrInvalidNonce, "fetch a new one"), dialect: DialectV1, nonce: nonce,
			want: `{"error":"invalid_nonce","error_description":"fetch a new one"}`, status: 400},
		{name: "draft 13 invalid_nonce becomes invalid_proof with c_nonce", err: Errorf(ErrInvalidNonce, "fetch a new one"), dialect: DialectDraft13, nonce: nonce,
			want: `{"error":"invalid_proof","error_description":"fetch a new one","c_nonce":"fresh","c_nonce_expires_in":120}`, status: 400},
		{name: "draft 12 invalid_proof carries c_nonce", err: Errorf(ErrInvalidProof, "bad"), dialect: DialectDraft12, nonce: nonce,
			want: `{"error":"invalid_proof","error_description":"bad","c_nonce":"fresh","c_nonce_expires_in":120}`, status: 400},
		{name: "draft 13 unknown configuration", err: Errorf(ErrUnknownCredentialConfiguration, "x"), dialect: DialectDraft13,
			want: `{"error":"unsupported_credential_type","error_description":"x"}`, status: 400},
		{name: "draft 13 unknown identifier", err: Errorf(ErrUnknownCredentialIdentifier, "x"), dialect: DialectDraft13,
			want: `{"error":"invalid_credential_request","error_description":"x"}`, status: 400},
		{name: "draft 15 keeps invalid_nonce without c_nonce", err: Errorf(ErrInvalidNonce, "fetch a new one"), dialect: DialectDraft15, nonce: nonce,
			want: `{"error":"invalid_nonce","error_description":"fetch a new one"}`, status: 400},
		{name: "draft 15 unknown configuration", err: Errorf(ErrUnknownCredentialConfiguration, "x"), dialect: DialectDraft15,
			want: `{"error":"unsupported_credential_type","error_description":"x"}`, status: 400},
		{name: "draft 15 unknown identifier", err: Errorf(ErrUnknownCredentialIdentifier, "x"), dialect: DialectDraft15,
			want: `{"error":"invalid_credential_request","error_description":"x"}`, status: 400},
		{name: "description sanitized", err: Errorf(ErrInvalidRequest, "say \"no\" \\ é\n"), dialect: DialectV1,
			want: `{"error":"invalid_request","error_description":"say 'no' / ??"}`, status: 400},
		{name: "invalid_token is 401", err: Errorf(ErrInvalidToken, "t"), dialect: DialectV1,
			want: `{"error":"invalid_token","error_description":"t"}`, status: 401},
		{name: "invalid_client is 401", err: Errorf(ErrInvalidClient, "c"), dialect: DialectV1,
			want: `{"error":"invalid_client","error_description":"c"}`, status: 401},
		{name: "server_error is 500", err: Errorf(ErrServerError, "s"), dialect: DialectV1,
			want: `{"error":"server_error","error_description":"s"}`, status: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.err.Body(tc.dialect, tc.nonce))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want || tc.err.HTTPStatus() != tc.status {
				t.Fatalf("got  %d %s\nwant %d %s", tc.err.HTTPStatus(), b, tc.status, tc.want)
			}
		})
	}
}

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("issue credential: %w", Errorf(ErrInvalidProof, "x"))
	if !errors.Is(err, &Error{Code: ErrInvalidProof}) {
		t.Fatal("errors.Is must match by code")
	}
	if errors.Is(err, &Error{Code: ErrInvalidNonce}) {
		t.Fatal("errors.Is must not match another code")
	}
}

func TestDialectRoundTrip(t *testing.T) {
	for _, d := range []Dialect{DialectV1, DialectDraft13, DialectDraft12, DialectDraft15} {
		got, ok := ParseDialect(d.String())
		if !ok || got != d {
			t.Fatalf("dialect %v does not round-trip", d)
		}
	}
	if _, ok := ParseDialect("draft-11"); ok {
		t.Fatal("unknown dialect accepted")
	}
	for _, s := range []ProofShape{ProofsArray, ProofSingle} {
		got, ok := ParseProofShape(s.String())
		if !ok || got != s {
			t.Fatalf("proof shape %v does not round-trip", s)
		}
	}
}
