package oid4vci

import (
	"crypto/elliptic"
	"errors"
	"testing"
)

// fuzzProtocolError fails unless err is an *Error with one of codes and a description in the allowed ASCII set.
func fuzzProtocolError(t *testing.T, err error, codes ...string) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if !contains(codes, pe.Code) {
		t.Fatalf("unexpected code %s", pe.Code)
	}
	if pe.Description == "" || !validDescriptionText(pe.Description) {
		t.Fatalf("description %q is empty or outside the allowed ASCII set", pe.Description)
	}
}

func FuzzParseCredentialRequest(f *testing.F) {
	for _, s := range []string{
		`{"credential_configuration_id":"pda1","proofs":{"jwt":["a.b.c"]}}`,
		`{"credential_identifier":"ds-1","proofs":{"jwt":["a.b.c","d.e.f"]}}`,
		`{"format":"vc+sd-jwt","vct":"PDA1","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
		`{"format":"vc+sd-jwt","credential_definition":{"vct":"PDA1"},"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
		`{"credential_configuration_id":"x","credential_response_encryption":{"jwk":{}}}`,
		`{"a":1,"a":2}`, `[]`, `null`, `{"proofs":{"jwt":[1]}}`,
	} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, body []byte, maxProofs uint8) {
		req, err := ParseCredentialRequest(body, "application/json", int(maxProofs))
		if err != nil {
			fuzzProtocolError(t, err, ErrInvalidCredentialRequest, ErrInvalidProof, ErrInvalidEncryptionParameters, ErrUnsupportedCredentialFormat)
			return
		}
		n := 0
		for _, v := range []string{req.CredentialConfigurationID, req.CredentialIdentifier, req.Format} {
			if v != "" {
				n++
			}
		}
		limit := int(maxProofs)
		if limit < 1 {
			limit = 1
		}
		switch {
		case n != 1:
			t.Fatalf("request names %d credentials: %+v", n, req)
		case req.Format != "" && req.VCT == "":
			t.Fatalf("format without vct: %+v", req)
		case len(req.ProofJWTs) == 0 || len(req.ProofJWTs) > limit:
			t.Fatalf("%d proofs with limit %d", len(req.ProofJWTs), limit)
		case req.ProofShape == ProofSingle && len(req.ProofJWTs) != 1:
			t.Fatalf("single proof shape with %d proofs", len(req.ProofJWTs))
		case req.CredentialConfigurationID != "" && req.Dialect != DialectV1:
			t.Fatalf("configuration id request in dialect %v", req.Dialect)
		}
		for _, p := range req.ProofJWTs {
			if p == "" || len(p) > MaxProofJWTLength {
				t.Fatalf("proof of length %d accepted", len(p))
			}
		}
	})
}

func FuzzParseTokenRequest(f *testing.F) {
	const grant = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code"
	for _, s := range []string{
		grant + "&pre-authorized_code=abc",
		grant + "&pre-authorized_code=abc&tx_code=1234",
		grant + "&pre-authorized_code=abc&user_pin=1234",
		grant + "&pre-authorized_code=abc&authorization_details=%5B%7B%22type%22%3A%22openid_credential%22%2C%22credential_configuration_id%22%3A%22x%22%7D%5D",
		"grant_type=authorization_code&code=x", "grant_type=authorization_code&code=x&code_verifier=y", "a=%zz", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, err := ParseTokenRequest(body, "application/x-www-form-urlencoded")
		if err != nil {
			fuzzProtocolError(t, err, ErrInvalidRequest, ErrUnsupportedGrantType, ErrInvalidAuthorizationDetails)
			return
		}
		if req.GrantType == GrantTypeAuthorizationCode && (req.Code == "" || req.CodeVerifier == "") {
			t.Fatal("accepted an authorization code request without code or code_verifier")
		}
		if req.GrantType == GrantTypePreAuthorizedCode && req.PreAuthorizedCode == "" {
			t.Fatal("accepted a request without pre-authorized_code")
		}
		if !req.TxCodePresent && req.TxCode != "" {
			t.Fatal("tx_code value without presence")
		}
		for _, d := range req.AuthorizationDetails {
			if d.Type != AuthorizationDetailsTypeCredential || d.CredentialConfigurationID == "" {
				t.Fatalf("invalid authorization detail accepted: %+v", d)
			}
		}
	})
}

func FuzzParseNotification(f *testing.F) {
	for _, s := range []string{
		`{"notification_id":"3fwe98js","event":"credential_accepted"}`,
		`{"notification_id":"n","event":"credential_failure","event_description":"Out of storage."}`,
		`{"notification_id":"n","event":"credential_deleted","x":{}}`,
		`{"notification_id":"n","notification_id":"m","event":"credential_accepted"}`,
		`{}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseNotificationRequest(body, "application/json")
		if err != nil {
			fuzzProtocolError(t, err, ErrInvalidNotificationRequest)
			return
		}
		switch req.Event {
		case EventCredentialAccepted, EventCredentialFailure, EventCredentialDeleted:
		default:
			t.Fatalf("unknown event %q accepted", req.Event)
		}
		if req.NotificationID == "" || !validDescriptionText(req.EventDescription) {
			t.Fatalf("invalid request accepted: %+v", req)
		}
	})
}

func FuzzValidateProofJWT(f *testing.F) {
	key := newECKey(f, elliptic.P256(), "ES256")
	valid := makeProof(f, key, goodProofParts(key, "n-1"))
	noNonce := goodProofParts(key, "")
	delete(noNonce.claims, "nonce")
	kid := goodProofParts(key, "n-1")
	kid.header["kid"] = "k"
	for _, s := range []string{
		valid, makeProof(f, key, noNonce), makeProof(f, key, kid),
		"eyJhbGciOiJub25lIn0.e30.", "a.b.c", "", "....",
	} {
		f.Add(s)
	}
	exp := ProofExpectations{Audience: testIssuer, Now: testNow, RequireNonce: true, ExpectedNonce: "n-1"}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := ValidateProofJWT(token, exp)
		if err != nil {
			fuzzProtocolError(t, err, ErrInvalidProof, ErrInvalidNonce)
			return
		}
		if p.Key == nil || p.Nonce != "n-1" || p.Thumbprint == "" || hasPrivateMember(p.JWK) || p.Raw != token {
			t.Fatalf("inconsistent proof accepted: %+v", p)
		}
	})
}
