package oid4vci

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseTokenRequest(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	const grant = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code"
	tests := []struct {
		name     string
		body     string
		ct       string
		want     *TokenRequest
		wantCode string
		wantDesc string
	}{
		{name: "code only", body: grant + "&pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA",
			want: &TokenRequest{PreAuthorizedCode: "SplxlOBeZQQYbYS6WxSbIA"}},
		{name: "unescaped grant type", body: "grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code&pre-authorized_code=c",
			want: &TokenRequest{PreAuthorizedCode: "c"}},
		{name: "tx_code", body: grant + "&pre-authorized_code=c&tx_code=493536",
			want: &TokenRequest{PreAuthorizedCode: "c", TxCode: "493536", TxCodePresent: true}},
		// RFC 6749 section 3.1: parameters sent without a value are treated as omitted, so a wallet that always
		// sends an empty tx_code (or user_pin) still redeems an offer without a transaction code.
		{name: "empty tx_code is omitted", body: grant + "&pre-authorized_code=c&tx_code=",
			want: &TokenRequest{PreAuthorizedCode: "c"}},
		{name: "empty user_pin is omitted", body: grant + "&pre-authorized_code=c&user_pin=",
			want: &TokenRequest{PreAuthorizedCode: "c"}},
		{name: "empty user_pin beside tx_code", body: grant + "&pre-authorized_code=c&user_pin=&tx_code=493536",
			want: &TokenRequest{PreAuthorizedCode: "c", TxCode: "493536", TxCodePresent: true}},
		{name: "empty client_id and authorization_details", body: grant + "&pre-authorized_code=c&client_id=&authorization_details=",
			want: &TokenRequest{PreAuthorizedCode: "c"}},
		{name: "empty grant type", body: "grant_type=&pre-authorized_code=c", wantCode: ErrInvalidRequest, wantDesc: "grant_type is required"},
		{name: "draft 12 user_pin", body: grant + "&pre-authorized_code=c&user_pin=4821",
			want: &TokenRequest{PreAuthorizedCode: "c", TxCode: "4821", TxCodePresent: true, Dialect: DialectDraft12}},
		{name: "tx_code and equal user_pin", body: grant + "&pre-authorized_code=c&user_pin=4821&tx_code=4821",
			want: &TokenRequest{PreAuthorizedCode: "c", TxCode: "4821", TxCodePresent: true}},
		{name: "client id and charset", ct: form + "; charset=utf-8", body: grant + "&pre-authorized_code=c&client_id=wallet",
			want: &TokenRequest{PreAuthorizedCode: "c", ClientID: "wallet"}},
		{name: "authorization details", body: grant + "&pre-authorized_code=c&authorization_details=" +
			"%5B%7B%22type%22%3A%22openid_credential%22%2C%22credential_configuration_id%22%3A%22pda1%22%7D%2C%7B%22type%22%3A%22other%22%7D%5D",
			want: &TokenRequest{PreAuthorizedCode: "c", AuthorizationDetails: []AuthorizationDetail{{Type: "openid_credential", CredentialConfigurationID: "pda1"}}}},

		{name: "json body", ct: "application/json", body: `{"grant_type":"x"}`, wantCode: ErrInvalidRequest, wantDesc: "x-www-form-urlencoded"},
		{name: "missing grant type", body: "pre-authorized_code=c", wantCode: ErrInvalidRequest, wantDesc: "grant_type is required"},
		{name: "authorization code grant", body: "grant_type=authorization_code&code=c&code_verifier=v&redirect_uri=https%3A%2F%2Fw.example%2Fcb&client_id=w",
			want: &TokenRequest{GrantType: GrantTypeAuthorizationCode, Code: "c", CodeVerifier: "v", RedirectURI: "https://w.example/cb", ClientID: "w"}},
		{name: "authorization code without code", body: "grant_type=authorization_code&code_verifier=v", wantCode: ErrInvalidRequest, wantDesc: "code is required"},
		{name: "authorization code without verifier", body: "grant_type=authorization_code&code=c", wantCode: ErrInvalidRequest, wantDesc: "code_verifier is required"},
		{name: "other grant type", body: "grant_type=client_credentials", wantCode: ErrUnsupportedGrantType, wantDesc: "grant types are"},
		{name: "missing code", body: grant, wantCode: ErrInvalidRequest, wantDesc: "pre-authorized_code is required"},
		{name: "repeated code", body: grant + "&pre-authorized_code=a&pre-authorized_code=b", wantCode: ErrInvalidRequest, wantDesc: "pre-authorized_code appears more than once"},
		{name: "repeated grant type", body: grant + "&" + grant + "&pre-authorized_code=a", wantCode: ErrInvalidRequest, wantDesc: "grant_type appears more than once"},
		{name: "tx_code and user_pin differ", body: grant + "&pre-authorized_code=c&tx_code=1&user_pin=2", wantCode: ErrInvalidRequest, wantDesc: "differ"},
		{name: "bad encoding", body: grant + "&pre-authorized_code=%zz", wantCode: ErrInvalidRequest, wantDesc: "form encoding"},
		{name: "too large", body: grant + "&x=" + strings.Repeat("a", MaxTokenRequestBytes), wantCode: ErrInvalidRequest, wantDesc: "larger than"},
		{name: "authorization details not JSON", body: grant + "&pre-authorized_code=c&authorization_details=x", wantCode: ErrInvalidAuthorizationDetails, wantDesc: "JSON array"},
		{name: "authorization details without id", body: grant + "&pre-authorized_code=c&authorization_details=%5B%7B%22type%22%3A%22openid_credential%22%7D%5D",
			wantCode: ErrInvalidAuthorizationDetails, wantDesc: "credential_configuration_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = form
			}
			got, err := ParseTokenRequest(tc.body, ct)
			if tc.wantCode != "" {
				pe := protocolError(t, err, tc.wantCode)
				if !strings.Contains(pe.Description, tc.wantDesc) {
					t.Fatalf("description %q does not contain %q", pe.Description, tc.wantDesc)
				}
				for _, secret := range []string{"4821", "SplxlOBeZQQYbYS6WxSbIA"} {
					if strings.Contains(pe.Description, secret) {
						t.Fatalf("description leaks a secret: %q", pe.Description)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.GrantType == "" {
				tc.want.GrantType = GrantTypePreAuthorizedCode
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCheckTxCode(t *testing.T) {
	tests := []struct {
		name     string
		present  bool
		required bool
		wantCode string
	}{
		{name: "required and sent", present: true, required: true},
		{name: "not required, not sent", present: false, required: false},
		{name: "required, missing", present: false, required: true, wantCode: ErrInvalidRequest},
		{name: "unexpected", present: true, required: false, wantCode: ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := (&TokenRequest{TxCodePresent: tc.present}).CheckTxCode(tc.required)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			protocolError(t, err, tc.wantCode)
		})
	}
}

func TestTokenResponseJSON(t *testing.T) {
	tests := []struct {
		name  string
		nonce *CNonce
		want  string
	}{
		{name: "with c_nonce", nonce: &CNonce{Value: "n", ExpiresInSeconds: 300},
			want: `{"access_token":"at","token_type":"Bearer","expires_in":600,"c_nonce":"n","c_nonce_expires_in":300}`},
		{name: "without c_nonce", want: `{"access_token":"at","token_type":"Bearer","expires_in":600}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(NewTokenResponse("at", 600, tc.nonce))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("got %s\nwant %s", b, tc.want)
			}
		})
	}
}

func TestAccessToken(t *testing.T) {
	tests := []struct {
		header, scheme, token string
	}{
		{"Bearer abc", TokenTypeBearer, "abc"},
		{"DPoP abc", TokenTypeDPoP, "abc"},
		{"dpop  abc ", TokenTypeDPoP, "abc"},
		{"DPoP", "", ""},
		{"DPoP a b", "", ""},
		{"Basic abc", "", ""},
		{"", "", ""},
	}
	for _, tc := range tests {
		scheme, token, err := AccessToken(tc.header)
		if tc.scheme == "" {
			protocolError(t, err, ErrInvalidToken)
			continue
		}
		if err != nil || scheme != tc.scheme || token != tc.token {
			t.Errorf("AccessToken(%q) = %q %q %v", tc.header, scheme, token, err)
		}
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc.def", "abc.def", true},
		{"bearer abc", "abc", true},
		{"  BEARER   abc  ", "abc", true},
		{"", "", false},
		{"Basic abc", "", false},
		{"Bearer ", "", false},
		{"Bearer a b", "", false},
		{"DPoP abc", "", false},
		{"Bearer\tabc", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			got, err := BearerToken(tc.header)
			if !tc.ok {
				pe := protocolError(t, err, ErrInvalidToken)
				if pe.HTTPStatus() != 401 {
					t.Fatalf("status %d, want 401", pe.HTTPStatus())
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
