package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/infra/gateway"
	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/infra/template"
	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
	"github.com/sdjwt-issuer/issuer/shared/platform"
)

const (
	adminKey  = "e2e-admin-key"
	adminBase = "/v2/config/digital-wallet/openid/sdjwt"
)

// issuer is the API over HTTP: the local gateway with template.yaml's routes in front of handlers.Lambda, on a
// fresh table of the local stack and its KMS key.
type issuer struct {
	t   *testing.T
	url string
	hc  *http.Client
	// table and aws let a test read what the issuer stored.
	table string
	aws   aws.Config
}

// newLocalIssuer prepares an issuer on a fresh table of the local stack and its KMS key: the server, not yet
// started, whose address is the issuer URL, the functions' configuration and the stack's AWS configuration.
func newLocalIssuer(t *testing.T) (*httptest.Server, config.Config, aws.Config) {
	t.Helper()
	stack := localstack.ForTest(t)
	ctx := context.Background()
	table := stack.NewTable(ctx, t)
	awsCfg, err := stack.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	cfg := config.Config{IssuerURL: "http://" + srv.Listener.Addr().String(), TableName: table, KMSKeyID: stack.KeyID,
		AdminAPIKeyHashes: []string{apigw.HashAPIKey(adminKey)}, RetentionDays: 30, EventSource: "e2e"}
	return srv, cfg, awsCfg
}

func startIssuer(t *testing.T) *issuer {
	t.Helper()
	return startIssuerLogging(t, io.Discard)
}

// startIssuerLogging starts the issuer with every log line of the functions and the gateway, at debug level,
// written to logs; each configure function may change the functions' configuration first (it sees the stack's
// AWS configuration).
func startIssuerLogging(t *testing.T, logs io.Writer, configure ...func(*config.Config, aws.Config)) *issuer {
	t.Helper()
	return startIssuerWith(t, logs, "", configure...)
}

// startIssuerWith starts the issuer with ISSUER_URL http://ADDR<basePath>, the gateway serving the API under
// basePath as API Gateway serves a stage ("" for none), its logs written to logs, configured as startIssuerLogging.
func startIssuerWith(t *testing.T, logs io.Writer, basePath string, configure ...func(*config.Config, aws.Config)) *issuer {
	t.Helper()
	srv, cfg, awsCfg := newLocalIssuer(t)
	for _, c := range configure {
		c(&cfg, awsCfg)
	}
	cfg.IssuerURL += basePath
	issuerURL, table := cfg.IssuerURL, cfg.TableName
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps, err := handlers.NewDeps(context.Background(), cfg, platform.FromAWSConfig(awsCfg), handlers.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := template.Routes(filepath.Join(testkit.MustRepoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	preflights, err := template.Preflights(filepath.Join(testkit.MustRepoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gwOpts := []gateway.Option{gateway.WithBasePath(basePath), gateway.WithPreflights(preflights)}
	if logs != io.Discard {
		gwOpts = append(gwOpts, gateway.WithLogger(log))
	}
	srv.Config.Handler = gateway.New(routes, handlers.Lambda(deps), gwOpts...)
	srv.Start()
	t.Cleanup(srv.Close)
	// Redirects are answers to read (the authorization endpoint sends wallets to their own redirect_uri), never
	// followed: a test sends nothing beyond the issuer.
	hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return &issuer{t: t, url: issuerURL, hc: hc, table: table, aws: awsCfg}
}

// response is an HTTP answer with its body decoded when it is JSON.
type response struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

func (r *response) str(name string) string {
	s, _ := r.json[name].(string)
	return s
}

func (is *issuer) do(method, path string, body io.Reader, headers ...string) *response {
	is.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = is.url + path
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		is.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := is.hc.Do(req)
	if err != nil {
		is.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		is.t.Fatal(err)
	}
	out := &response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.json); err != nil {
			is.t.Fatalf("%s %s: body %s: %v", method, path, raw, err)
		}
	}
	return out
}

func (is *issuer) admin(method, path string, body any) *response {
	is.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			is.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	return is.do(method, adminBase+path, r, "Authorization", "ApiKey "+adminKey, "Content-Type", "application/json")
}

func (is *issuer) postJSON(path, token string, body any) *response {
	is.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		is.t.Fatal(err)
	}
	h := []string{"Content-Type", "application/json"}
	if token != "" {
		h = append(h, "Authorization", "Bearer "+token)
	}
	return is.do(http.MethodPost, path, bytes.NewReader(b), h...)
}

func (is *issuer) postForm(path string, form url.Values) *response {
	is.t.Helper()
	return is.do(http.MethodPost, path, strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
}

// definition creates the test credential definition and returns its id.
func (is *issuer) definition() string {
	is.t.Helper()
	r := is.admin(http.MethodPost, "/credential-definition", map[string]any{
		"label": "Portable Document A1", "credentialFormat": "dc+sd-jwt", "vct": "PortableDocumentA1",
		"expirationInDays": 365, "claims": []any{
			map[string]any{"path": []any{"given_name"}, "mandatory": true, "limitDisclosure": true},
			map[string]any{"path": []any{"address"}, "limitDisclosure": true},
			map[string]any{"path": []any{"address", "street_address"}, "limitDisclosure": true},
		}, "display": []any{map[string]any{"name": "Portable Document A1", "locale": "en-GB"}}})
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		is.t.Fatalf("create definition: %d %s", r.status, r.raw)
	}
	def, _ := r.json["credentialDefinition"].(map[string]any)
	id, _ := def["credentialDefinitionId"].(string)
	return id
}

// issue creates an exchange and returns its id and offer deep link.
func (is *issuer) issue(body map[string]any) (string, string) {
	is.t.Helper()
	r := is.admin(http.MethodPost, "/credential/issue", body)
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		is.t.Fatalf("issue: %d %s", r.status, r.raw)
	}
	h, _ := r.json["credentialHistory"].(map[string]any)
	id, _ := h["credentialExchangeId"].(string)
	offer, _ := h["credentialOffer"].(string)
	return id, offer
}

func (is *issuer) history(id string) map[string]any {
	is.t.Helper()
	r := is.admin(http.MethodGet, "/credential/history/"+id, nil)
	if r.status != http.StatusOK {
		is.t.Fatalf("history: %d %s", r.status, r.raw)
	}
	h, _ := r.json["credentialHistory"].(map[string]any)
	return h
}

// offerURI is the credential_offer_uri of a deep link.
func offerURI(t *testing.T, link string) string {
	t.Helper()
	_, q, _ := strings.Cut(link, "?")
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v.Get("credential_offer_uri")
}

// holder is a wallet key.
type holder struct {
	priv *ecdsa.PrivateKey
	pub  jwk.Key
}

func newHolder(t *testing.T) holder {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return holder{priv: priv, pub: pub}
}

func (h holder) proof(t *testing.T, aud, nonce string) string {
	t.Helper()
	hdr := jws.NewHeaders()
	if err := hdr.Set("typ", "openid4vci-proof+jwt"); err != nil {
		t.Fatal(err)
	}
	if err := hdr.Set("jwk", h.pub); err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(map[string]any{"aud": aud, "iat": time.Now().Unix(), "nonce": nonce})
	if err != nil {
		t.Fatal(err)
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.ES256, h.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
