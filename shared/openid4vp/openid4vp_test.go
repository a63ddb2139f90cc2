package openid4vp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/keys"
)

type ringKey struct {
	kid  string
	priv *ecdsa.PrivateKey
}

func (r ringKey) PrivateKey(_ context.Context, kid string) (*ecdsa.PrivateKey, error) {
	if kid != r.kid {
		return nil, fmt.Errorf("kid %s: %w", kid, ErrUnknownKey)
	}
	return r.priv, nil
}

func newRingKey(t testing.TB) (ringKey, jwk.Key) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := jwk.FromRaw(&priv.PublicKey)
	_ = pub.Set(jwk.KeyIDKey, "vpr-1-abc")
	_ = pub.Set(jwk.AlgorithmKey, EncryptionAlg)
	_ = pub.Set(jwk.KeyUsageKey, "enc")
	return ringKey{kid: "vpr-1-abc", priv: priv}, pub
}

func TestRequestParameters(t *testing.T) {
	_, pub := newRingKey(t)
	base := Request{ClientID: "x509_san_dns:issuer.example", ResponseURI: "https://issuer.example/presentation-response",
		ResponseMode: ResponseModeDirectPostJWT, Nonce: "n", State: "s", DCQLQuery: json.RawMessage(`{"credentials":[]}`),
		EncryptionKey: pub, TransactionData: []string{"abc"}, IssuedAt: time.Unix(1000, 0), ExpiresAt: time.Unix(1300, 0)}
	p, err := base.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	for _, want := range []string{`"response_type":"vp_token"`, `"response_mode":"direct_post.jwt"`, `"dcql_query":{"credentials":[]}`,
		`"vp_formats_supported":{"dc+sd-jwt"`, `"encrypted_response_enc_values_supported":["A128GCM","A256GCM"]`,
		`"kid":"vpr-1-abc"`, `"transaction_data":["abc"]`, `"response_uri":"https://issuer.example/presentation-response"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("parameters %s lack %s", b, want)
		}
	}
	if strings.Contains(string(b), `"d":`) {
		t.Fatal("the request carries private key material")
	}
	draft := base
	draft.DCQLQuery, draft.PresentationDefinition = nil, json.RawMessage(`{"id":"x"}`)
	p, _ = draft.Parameters()
	b, _ = json.Marshal(p)
	for _, want := range []string{`"presentation_definition":{"id":"x"}`, `"vp_formats":{`, `"authorization_encrypted_response_alg":"ECDH-ES"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("draft parameters %s lack %s", b, want)
		}
	}
	for name, change := range map[string]func(*Request){
		"both queries":        func(r *Request) { r.PresentationDefinition = json.RawMessage(`{}`) },
		"no nonce":            func(r *Request) { r.Nonce = "" },
		"jwt without key":     func(r *Request) { r.EncryptionKey = nil },
		"other response mode": func(r *Request) { r.ResponseMode = "fragment" },
	} {
		r := base
		change(&r)
		if _, err := r.Parameters(); !errors.Is(err, ErrRequest) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	plain := base
	plain.ResponseMode, plain.EncryptionKey = ResponseModeDirectPost, nil
	q, err := plain.Query()
	if err != nil || q.Get("dcql_query") != `{"credentials":[]}` || q.Get("client_metadata") == "" || q.Get("nonce") != "n" {
		t.Fatalf("query %v %v", q, err)
	}
	if u := WalletURL(ByReference("c", "https://i.example/r")); u != "openid4vp://?client_id=c&request_uri=https%3A%2F%2Fi.example%2Fr" {
		t.Fatalf("wallet URL %s", u)
	}
}

func TestSignedRequestObject(t *testing.T) {
	signer, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	r := Request{ClientID: "redirect_uri:https://issuer.example/presentation-response", ResponseURI: "https://issuer.example/presentation-response",
		ResponseMode: ResponseModeDirectPost, Nonce: "n", State: "s", DCQLQuery: json.RawMessage(`{"credentials":[]}`),
		IssuedAt: time.Unix(1000, 0), ExpiresAt: time.Unix(1300, 0)}
	jwt, err := r.Sign(context.Background(), signer)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := jws.Parse([]byte(jwt))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Type() != RequestObjectTyp || h.KeyID() != signer.KeyID() || h.Algorithm() != jwa.ES256 {
		t.Fatalf("header %v", h)
	}
	payload, err := jws.Verify([]byte(jwt), jws.WithKey(jwa.ES256, signer.PublicJWK()))
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	if claims["aud"] != StaticAudience || claims["exp"] != float64(1300) || claims["client_id"] != r.ClientID || claims["state"] != "s" {
		t.Fatalf("claims %v", claims)
	}
}

func TestClientID(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := func(dns ...string) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"}, DNSNames: dns,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	resp := "https://issuer.example/stage/presentation-response"
	if id, signed := ClientID(resp, cert("issuer.example")); id != "x509_san_dns:issuer.example" || !signed {
		t.Errorf("certified host: %s %v", id, signed)
	}
	for name, leaf := range map[string][]byte{"no chain": nil, "other host": cert("other.example"), "garbage": []byte("x")} {
		if id, signed := ClientID(resp, leaf); id != "redirect_uri:"+resp || signed {
			t.Errorf("%s: %s %v", name, id, signed)
		}
	}
}

func encrypt(t testing.TB, pub jwk.Key, payload string, opts ...jwe.EncryptOption) string {
	t.Helper()
	hdr := jwe.NewHeaders()
	_ = hdr.Set(jwe.KeyIDKey, pub.KeyID())
	all := append([]jwe.EncryptOption{jwe.WithKey(jwa.ECDH_ES, pub, jwe.WithPerRecipientHeaders(hdr)), jwe.WithContentEncryption(jwa.A128GCM)}, opts...)
	out, err := jwe.Encrypt([]byte(payload), all...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestParseResponse(t *testing.T) {
	ctx := context.Background()
	ring, pub := newRingKey(t)
	ok, err := ParseResponse(ctx, url.Values{"state": {"s"}, "vp_token": {`{"a":["x~"]}`}}, nil)
	if err != nil || ok.VPToken != `{"a":["x~"]}` || ok.Encrypted {
		t.Fatalf("direct_post: %+v %v", ok, err)
	}
	enc, err := ParseResponse(ctx, url.Values{"response": {encrypt(t, pub, `{"state": "s", "vp_token": {"a": ["x~"]}}`)}}, ring)
	if err != nil || enc.State != "s" || enc.VPToken != `{"a": ["x~"]}` || !enc.Encrypted {
		t.Fatalf("direct_post.jwt: %+v %v", enc, err)
	}
	str, err := ParseResponse(ctx, url.Values{"response": {encrypt(t, pub, `{"state": "s", "vp_token": "a.b.c~", "presentation_submission": {"id": "x"}}`)}}, ring)
	if err != nil || str.VPToken != "a.b.c~" || str.PresentationSubmission != `{"id": "x"}` {
		t.Fatalf("draft direct_post.jwt: %+v %v", str, err)
	}
	other, _ := newRingKey(t)
	_, otherPub := newRingKey(t)
	_ = other
	for name, c := range map[string]struct {
		form url.Values
		keys ResponseKeys
		want string
	}{
		"no state":           {url.Values{"vp_token": {"x"}}, nil, "state is required"},
		"no vp_token":        {url.Values{"state": {"s"}}, nil, "vp_token is required"},
		"twice":              {url.Values{"state": {"s", "t"}, "vp_token": {"x"}}, nil, "appears 2 times"},
		"error and token":    {url.Values{"state": {"s"}, "error": {"access_denied"}, "vp_token": {"x"}}, nil, "no vp_token"},
		"jwe not expected":   {url.Values{"response": {"a.b.c.d.e"}}, nil, "was not sent with direct_post.jwt"},
		"jwe and more":       {url.Values{"response": {"a.b.c.d.e"}, "state": {"s"}}, ring, "only the response parameter"},
		"not a jwe":          {url.Values{"response": {"a.b.c"}}, ring, "compact JWE"},
		"another key":        {url.Values{"response": {encrypt(t, otherPub, `{"state":"s","vp_token":"x"}`)}}, ring, "does not decrypt"},
		"unknown kid":        {url.Values{"response": {encryptKid(t, otherPub, "nope", `{"state":"s","vp_token":"x"}`)}}, ring, "names no key"},
		"not an object":      {url.Values{"response": {encrypt(t, pub, `["x"]`)}}, ring, "JSON object"},
		"repeated member":    {url.Values{"response": {encrypt(t, pub, `{"state":"s","state":"t","vp_token":"x"}`)}}, ring, "JSON object"},
		"compressed":         {url.Values{"response": {encrypt(t, pub, `{"state":"s","vp_token":"x"}`, jwe.WithCompress(jwa.Deflate))}}, ring, "compressed"},
		"encrypted no state": {url.Values{"response": {encrypt(t, pub, `{"vp_token":"x"}`)}}, ring, "state is required"},
	} {
		_, err := ParseResponse(ctx, c.form, c.keys)
		if !errors.Is(err, ErrResponse) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

func encryptKid(t *testing.T, pub jwk.Key, kid, payload string) string {
	t.Helper()
	k, _ := pub.Clone()
	_ = k.Set(jwk.KeyIDKey, kid)
	return encrypt(t, k, payload)
}

func TestParseVPToken(t *testing.T) {
	tok, err := ParseVPToken(`{"pid": ["a~", "b~"], "x": ["c~"]}`, true)
	if err != nil || len(tok.ByQuery["pid"]) != 2 || tok.Count() != 3 {
		t.Fatalf("%+v %v", tok, err)
	}
	if tok, err := ParseVPToken(`a.b.c~d~`, false); err != nil || !tok.Single || tok.List[0] != "a.b.c~d~" {
		t.Fatalf("single: %+v %v", tok, err)
	}
	if tok, err := ParseVPToken(`["a~", "b~"]`, false); err != nil || tok.Single || len(tok.List) != 2 {
		t.Fatalf("array: %+v %v", tok, err)
	}
	many := make([]string, MaxPresentations+1)
	for i := range many {
		many[i] = "x~"
	}
	manyJSON, _ := json.Marshal(many)
	for name, c := range map[string]struct {
		raw  string
		dcql bool
	}{
		"string for dcql":       {"a~", true},
		"array for dcql":        {`["a~"]`, true},
		"member not an array":   {`{"pid": "a~"}`, true},
		"repeated member":       {`{"pid": ["a~"], "pid": ["b~"]}`, true},
		"empty":                 {`{}`, true},
		"empty presentation":    {`{"pid": [""]}`, true},
		"object for a draft":    {`{"pid": ["a~"]}`, false},
		"too many":              {string(manyJSON), false},
		"array of objects":      {`[{}]`, false},
		"empty array for draft": {`[]`, false},
	} {
		if _, err := ParseVPToken(c.raw, c.dcql); !errors.Is(err, ErrResponse) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestTransactionData(t *testing.T) {
	enc, err := EncodeTransactionData(json.RawMessage(`{"type": "fee", "amount": 25}`), []string{"pid"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(enc)
	if string(raw) != `{"amount":25,"credential_ids":["pid"],"type":"fee"}` {
		t.Fatalf("encoded %s", raw)
	}
	if ids, err := TransactionDataCredentialIDs(enc); err != nil || len(ids) != 1 || ids[0] != "pid" {
		t.Fatalf("ids %v %v", ids, err)
	}
	// The hash is over the string as sent: SHA-256 of its ASCII, base64url.
	if h := TransactionDataHash("abc"); h != "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" {
		t.Fatalf("hash %s", h)
	}
	for name, c := range map[string]struct{ raw, field string }{
		"not an object":  {`[1]`, "transactionData"},
		"no type":        {`{"amount": 1}`, "transactionData.type"},
		"empty type":     {`{"type": ""}`, "transactionData.type"},
		"credential_ids": {`{"type": "x", "credential_ids": ["a"]}`, "transactionData.credential_ids"},
		"other alg":      {`{"type": "x", "transaction_data_hashes_alg": ["sha-512"]}`, "transactionData.transaction_data_hashes_alg"},
		"too large":      {`{"type": "` + strings.Repeat("x", MaxTransactionDataBytes) + `"}`, "transactionData"},
	} {
		err := ValidateTransactionData("transactionData", json.RawMessage(c.raw))
		if err == nil || !strings.HasPrefix(err.Error(), c.field+": ") {
			t.Errorf("%s: %v, want at %s", name, err, c.field)
		}
	}
	if err := ValidateTransactionData("transactionData", json.RawMessage(`{"type": "x", "transaction_data_hashes_alg": ["sha-256"]}`)); err != nil {
		t.Fatal(err)
	}
}

// TestResponseBounds: the endpoint's bound (MaxPostBytes) takes the largest response the verifier accepts in
// either mode - a vp_token of MaxVPTokenBytes with MaxParametersBytes of other parameters, form encoded with
// every byte escaped, or encrypted (with A256GCM and a long kid) and posted as response=<JWE> - and the JWE bound
// takes that JWE; one byte more of vp_token or parameters is refused naming the bound.
func TestResponseBounds(t *testing.T) {
	ctx := context.Background()
	ring, pub := newRingKey(t)
	state := strings.Repeat("s", MaxStateLength)
	submission := `{"id":"` + strings.Repeat("x", MaxParametersBytes-len(state)-9) + `"}`
	clear := url.Values{"state": {state}, "presentation_submission": {submission},
		"vp_token": {strings.Repeat(`"`, MaxVPTokenBytes)}}.Encode()
	if len(clear) > MaxPostBytes {
		t.Errorf("the largest clear response is %d bytes, over MaxPostBytes %d", len(clear), MaxPostBytes)
	}
	token := `{"q":["` + strings.Repeat("a", MaxVPTokenBytes-10) + `"]}`
	plain, _ := json.Marshal(map[string]any{"state": state, "presentation_submission": json.RawMessage(submission),
		"vp_token": json.RawMessage(token)})
	jweText := encrypt(t, pub, string(plain), jwe.WithContentEncryption(jwa.A256GCM))
	body := url.Values{"response": {jweText}}.Encode()
	if len(body) > MaxPostBytes || len(jweText) > MaxEncryptedResponseBytes {
		t.Errorf("the largest encrypted response is %d bytes (body %d), over MaxEncryptedResponseBytes %d or MaxPostBytes %d",
			len(jweText), len(body), MaxEncryptedResponseBytes, MaxPostBytes)
	}
	r, err := ParseResponse(ctx, url.Values{"response": {jweText}}, ring)
	if err != nil || len(r.VPToken) != len(token) {
		t.Fatalf("the largest encrypted response: %v", err)
	}
	if _, err := ParseVPToken(r.VPToken, true); err != nil {
		t.Fatalf("the largest vp_token: %v", err)
	}
	if MaxPostBytes > 4<<20 {
		t.Errorf("MaxPostBytes %d: a body base64 encoded in a Lambda event must stay far below its 6 MB", MaxPostBytes)
	}

	over := `{"q":["` + strings.Repeat("a", MaxVPTokenBytes-9) + `"]}`
	for name, form := range map[string]url.Values{
		"vp_token":            {"state": {"s"}, "vp_token": {over}},
		"encrypted vp_token":  {"response": {encrypt(t, pub, `{"state":"s","vp_token":`+over+`}`)}},
		"parameters":          {"state": {"s"}, "vp_token": {"x"}, "presentation_submission": {strings.Repeat("x", MaxParametersBytes)}},
		"encrypted too large": {"response": {strings.Repeat("a", MaxEncryptedResponseBytes+1)}},
	} {
		_, err := ParseResponse(ctx, form, ring)
		if !errors.Is(err, ErrResponse) || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("%s: %v, want a refusal naming the bound", name, err)
		}
	}
}
