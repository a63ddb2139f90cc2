package oid4vci

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

const (
	parIssuer     = "https://issuer.example"
	testVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
	testChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func parForm(kv ...string) string {
	v := url.Values{"response_type": {"code"}, "client_id": {"wallet"}, "redirect_uri": {"https://wallet.example/cb"},
		"code_challenge": {testChallenge}, "code_challenge_method": {"S256"}, "scope": {"pid"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			v.Del(kv[i])
			continue
		}
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

func TestParsePushedAuthorizationRequest(t *testing.T) {
	details := `[{"type":"openid_credential","credential_configuration_id":"pid"}]`
	tests := []struct {
		name     string
		body     string
		ct       string
		want     *AuthorizationRequest
		wantCode string
		wantDesc string
	}{
		{name: "scope", body: parForm("state", "xyz", "issuer_state", "e.s", "resource", parIssuer),
			want: &AuthorizationRequest{ClientID: "wallet", RedirectURI: "https://wallet.example/cb", State: "xyz",
				CodeChallenge: testChallenge, Scope: []string{"pid"}, IssuerState: "e.s"}},
		{name: "authorization details, openid scope dropped", body: parForm("scope", "openid", "authorization_details", details,
			"dpop_jkt", testChallenge),
			want: &AuthorizationRequest{ClientID: "wallet", RedirectURI: "https://wallet.example/cb", CodeChallenge: testChallenge,
				AuthorizationDetails: []AuthorizationDetail{{Type: "openid_credential", CredentialConfigurationID: "pid"}},
				DPoPJKT:              testChallenge}},
		{name: "repeated scope value", body: parForm("scope", "pid mdl pid"),
			want: &AuthorizationRequest{ClientID: "wallet", RedirectURI: "https://wallet.example/cb", CodeChallenge: testChallenge,
				Scope: []string{"pid", "mdl"}}},
		{name: "private-use scheme", body: parForm("redirect_uri", "eudi-wallet://authorize?x=1"),
			want: &AuthorizationRequest{ClientID: "wallet", RedirectURI: "eudi-wallet://authorize?x=1", CodeChallenge: testChallenge,
				Scope: []string{"pid"}}},
		{name: "loopback http", body: parForm("redirect_uri", "http://127.0.0.1:5000/cb"),
			want: &AuthorizationRequest{ClientID: "wallet", RedirectURI: "http://127.0.0.1:5000/cb", CodeChallenge: testChallenge,
				Scope: []string{"pid"}}},

		{name: "json body", ct: "application/json", body: "{}", wantCode: ErrInvalidRequest, wantDesc: "x-www-form-urlencoded"},
		{name: "request_uri inside", body: parForm("request_uri", RequestURIPrefix+"x"), wantCode: ErrInvalidRequest, wantDesc: "must not carry request_uri"},
		{name: "request object", body: parForm("request", "a.b.c"), wantCode: ErrInvalidRequest, wantDesc: "request objects"},
		{name: "no response_type", body: parForm("response_type", "-"), wantCode: ErrInvalidRequest, wantDesc: "response_type is required"},
		{name: "token response_type", body: parForm("response_type", "token"), wantCode: ErrUnsupportedResponseType, wantDesc: "code"},
		{name: "no client_id", body: parForm("client_id", "-"), wantCode: ErrInvalidRequest, wantDesc: "client_id is required"},
		{name: "client_id with control", body: parForm("client_id", "a\nb"), wantCode: ErrInvalidRequest, wantDesc: "visible ASCII"},
		{name: "no redirect_uri", body: parForm("redirect_uri", "-"), wantCode: ErrInvalidRequest, wantDesc: "redirect_uri is required"},
		{name: "relative redirect_uri", body: parForm("redirect_uri", "/cb"), wantCode: ErrInvalidRequest, wantDesc: "absolute"},
		{name: "redirect_uri with fragment", body: parForm("redirect_uri", "https://w.example/cb#f"), wantCode: ErrInvalidRequest, wantDesc: "fragment"},
		{name: "javascript redirect_uri", body: parForm("redirect_uri", "javascript:alert(1)"), wantCode: ErrInvalidRequest, wantDesc: "https"},
		{name: "data redirect_uri", body: parForm("redirect_uri", "data:text/html,x"), wantCode: ErrInvalidRequest, wantDesc: "https"},
		{name: "http redirect_uri elsewhere", body: parForm("redirect_uri", "http://wallet.example/cb"), wantCode: ErrInvalidRequest, wantDesc: "loopback"},
		{name: "no code_challenge", body: parForm("code_challenge", "-"), wantCode: ErrInvalidRequest, wantDesc: "PKCE"},
		{name: "no method", body: parForm("code_challenge_method", "-"), wantCode: ErrInvalidRequest, wantDesc: "S256"},
		{name: "plain method", body: parForm("code_challenge_method", "plain"), wantCode: ErrInvalidRequest, wantDesc: "plain is not accepted"},
		{name: "challenge not SHA-256", body: parForm("code_challenge", "abc"), wantCode: ErrInvalidRequest, wantDesc: "43 characters"},
		{name: "bad dpop_jkt", body: parForm("dpop_jkt", "abc"), wantCode: ErrInvalidRequest, wantDesc: "dpop_jkt"},
		{name: "long state", body: parForm("state", strings.Repeat("s", MaxStateLen+1)), wantCode: ErrInvalidRequest, wantDesc: "state"},
		{name: "foreign resource", body: parForm("resource", "https://other.example"), wantCode: ErrInvalidTarget, wantDesc: "resource"},
		{name: "nothing asked", body: parForm("scope", "-"), wantCode: ErrInvalidRequest, wantDesc: "authorization_details"},
		{name: "only openid", body: parForm("scope", "openid"), wantCode: ErrInvalidRequest, wantDesc: "authorization_details"},
		{name: "bad authorization_details", body: parForm("authorization_details", "[1]"), wantCode: ErrInvalidAuthorizationDetails, wantDesc: "object"},
		{name: "too many scopes", body: parForm("scope", "a b c d e f g h i j k"), wantCode: ErrInvalidScope, wantDesc: "at most"},
		{name: "repeated parameter", body: parForm() + "&state=a&state=b", wantCode: ErrInvalidRequest, wantDesc: "more than once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			got, err := ParsePushedAuthorizationRequest(tc.body, ct, parIssuer)
			if tc.wantCode != "" {
				pe := protocolError(t, err, tc.wantCode)
				if !strings.Contains(pe.Description, tc.wantDesc) {
					t.Fatalf("description %q does not contain %q", pe.Description, tc.wantDesc)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCheckCodeVerifier(t *testing.T) {
	if PKCEChallenge(testVerifier) != testChallenge {
		t.Fatalf("challenge %s", PKCEChallenge(testVerifier))
	}
	if err := CheckCodeVerifier(testVerifier, testChallenge); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ verifier, code string }{
		{"", ErrInvalidRequest},
		{"short", ErrInvalidRequest},
		{strings.Repeat("a", 129), ErrInvalidRequest},
		{strings.Repeat("a", 42) + "!", ErrInvalidRequest},
		{strings.Repeat("a", 43), ErrInvalidGrant},
		{testVerifier + "x", ErrInvalidGrant},
	} {
		protocolError(t, CheckCodeVerifier(tc.verifier, testChallenge), tc.code)
	}
}

func TestAuthorizationResponses(t *testing.T) {
	got, err := AuthorizationResponse("https://w.example/cb?session=1", "c", "s t", parIssuer)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	q := u.Query()
	if q.Get("code") != "c" || q.Get("state") != "s t" || q.Get("iss") != parIssuer || q.Get("session") != "1" {
		t.Fatalf("response %s", got)
	}
	got, err = AuthorizationErrorResponse("eudi://cb", Errorf(ErrAccessDenied, "no\nway"), "", parIssuer)
	if err != nil {
		t.Fatal(err)
	}
	u, _ = url.Parse(got)
	q = u.Query()
	if q.Get("error") != ErrAccessDenied || strings.ContainsAny(q.Get("error_description"), "\n") || q.Has("state") ||
		q.Get("iss") != parIssuer {
		t.Fatalf("error response %s", got)
	}
}

func TestParseAuthorizationEndpointQuery(t *testing.T) {
	ok := url.Values{"client_id": {"w"}, "request_uri": {RequestURIPrefix + "abc"}}
	r, err := ParseAuthorizationEndpointQuery(ok)
	if err != nil || r.ClientID != "w" || r.RequestURI != RequestURIPrefix+"abc" {
		t.Fatalf("%+v %v", r, err)
	}
	for name, q := range map[string]url.Values{
		"no request_uri":      {"client_id": {"w"}, "response_type": {"code"}},
		"foreign request_uri": {"client_id": {"w"}, "request_uri": {"https://x.example/r"}},
		"no client_id":        {"request_uri": {RequestURIPrefix + "abc"}},
		"repeated":            {"client_id": {"w", "v"}, "request_uri": {RequestURIPrefix + "abc"}},
	} {
		if _, err := ParseAuthorizationEndpointQuery(q); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseHolderResponse(t *testing.T) {
	const limit = 1 << 10
	r, err := ParseHolderResponse("id_token=a.b.c&state=s1", "application/x-www-form-urlencoded", limit)
	if err != nil || r.State != "s1" || r.Form.Get("id_token") != "a.b.c" {
		t.Fatalf("%+v %v", r, err)
	}
	for _, body := range []string{"id_token=a.b.c", "state=" + strings.Repeat("s", 257), "state=a&state=b",
		"state=s&id_token=" + strings.Repeat("a", limit)} {
		if _, err := ParseHolderResponse(body, "application/x-www-form-urlencoded", limit); err == nil {
			t.Errorf("%q accepted", body)
		}
	}
	if _, err := ParseHolderResponse(`{"state":"s"}`, "application/json", limit); err == nil {
		t.Error("JSON accepted")
	}
}

func FuzzParsePushedAuthorizationRequest(f *testing.F) {
	f.Add(parForm())
	f.Add(parForm("authorization_details", `[{"type":"openid_credential","credential_configuration_id":"x"}]`, "scope", "-"))
	f.Add("a=%zz")
	f.Fuzz(func(t *testing.T, body string) {
		req, err := ParsePushedAuthorizationRequest(body, "application/x-www-form-urlencoded", parIssuer)
		if err != nil {
			fuzzProtocolError(t, err, ErrInvalidRequest, ErrUnsupportedResponseType, ErrInvalidAuthorizationDetails,
				ErrInvalidTarget, ErrInvalidScope)
			return
		}
		if req.ClientID == "" || CheckRedirectURI(req.RedirectURI) != nil || !isSHA256(req.CodeChallenge) ||
			len(req.Scope)+len(req.AuthorizationDetails) == 0 {
			t.Fatalf("accepted %+v", req)
		}
	})
}

func FuzzParseHolderResponse(f *testing.F) {
	f.Add("id_token=a.b.c&state=s")
	f.Add("error=access_denied&state=s")
	f.Fuzz(func(t *testing.T, body string) {
		r, err := ParseHolderResponse(body, "application/x-www-form-urlencoded", 64<<10)
		if err != nil {
			fuzzProtocolError(t, err, ErrInvalidRequest)
			return
		}
		if r.State == "" {
			t.Fatal("accepted without state")
		}
	})
}
