// Package events holds the sample events of every function (see README.md); this test invokes each function's
// Lambda handler (handlers.Lambda) with each sample, against the local stack.
package events

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/events"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
	"github.com/sdjwt-issuer/issuer/shared/platform"
)

// The fixed sample values of the event files (README.md), replaced by real ones where a scenario creates state.
const (
	sampleDefinitionID = "3f1c2a9e-6b7d-4e1a-9c55-2d8b7f0a4e61"
	// samplePresentationDefinitionID is the presentation definition id of the definitions-presentation samples.
	samplePresentationDefinitionID = "5b8e2f4a-1c3d-4e6f-8a9b-0c1d2e3f4a5b"
	sampleExchangeID               = "9b2e4c71-0d3a-4f6e-8a1b-5c7d9e2f3a40"
	sampleOfferID                  = "Qm8x3vT7yZ2pL6kR9sW1nB4c"
	sampleCode                     = "SplxlOBeZQQYbYS6WxSbIA"
	sampleAccessToken              = "2YotnFZFEjr1zCsicMWpAA"
	sampleAdminKey                 = "local-dev-key"
	sampleIssuerURL                = "https://issuer.example.com"
	// sampleConfigurationID is the credential_configuration_id credential.json asks for.
	sampleConfigurationID = "PortableDocumentA1"
	preAuthGrant          = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
)

// offerDeliveries answers the wallet offer endpoints of the samples (wallet.example) without a network.
type offerDeliveries struct {
	mu   sync.Mutex
	urls []string
}

func (o *offerDeliveries) Do(req *http.Request) (*http.Response, error) {
	o.mu.Lock()
	o.urls = append(o.urls, req.URL.String())
	o.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: req}, nil
}

// harness invokes the handlers exactly as Lambda would: JSON payload in, JSON payload out.
type harness struct {
	functions map[string]lambda.Handler
	// events are what the publisher function published (no bus: the log); mark is how many there were before the
	// last stream batch.
	events *events.Log
	mark   int
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	stack := localstack.ForTest(t)
	env := map[string]string{
		config.EnvIssuerURL:         sampleIssuerURL,
		config.EnvTableName:         stack.TableName,
		config.EnvKMSKeyID:          stack.KeyID,
		config.EnvAdminAPIKeyHashes: apigw.HashAPIKey(sampleAdminKey),
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	awsCfg, err := stack.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	published := events.NewLog(log, 100)
	deps, err := handlers.NewDeps(ctx, cfg, platform.FromAWSConfig(awsCfg), handlers.WithLogger(log),
		handlers.WithHTTPDoer(&offerDeliveries{}), handlers.WithEvents(published))
	if err != nil {
		t.Fatal(err)
	}
	return &harness{functions: handlers.Lambda(deps), events: published}
}

// invoke runs the function with a payload and returns its raw answer.
func (h *harness) invoke(t *testing.T, function string, payload []byte) []byte {
	t.Helper()
	fn, ok := h.functions[function]
	if !ok {
		t.Fatalf("handlers.Lambda has no %s", function)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := fn.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("%s failed: %v", function, err)
	}
	return out
}

// call invokes a function with a proxy event and decodes the proxy response, its body decoded when base64.
func (h *harness) call(t *testing.T, function string, event []byte) (awsevents.APIGatewayProxyResponse, []byte) {
	t.Helper()
	var resp awsevents.APIGatewayProxyResponse
	if err := json.Unmarshal(h.invoke(t, function, event), &resp); err != nil {
		t.Fatalf("%s answered no proxy response: %v", function, err)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			t.Fatalf("%s answered an isBase64Encoded body that does not decode: %v", function, err)
		}
		body = b
	}
	return resp, body
}

// sample reads an event file with sample values replaced (old, new pairs).
func sample(t *testing.T, name string, replace ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(replace...).Replace(string(b)))
}

// mustStatus calls a sample and fails unless it answers status; it returns the JSON body.
func (h *harness) mustStatus(t *testing.T, function, file string, status int, replace ...string) map[string]any {
	t.Helper()
	resp, body := h.call(t, function, sample(t, file, replace...))
	if resp.StatusCode != status {
		t.Fatalf("setup %s: %d, want %d: %s", file, resp.StatusCode, status, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("setup %s: body is not JSON: %v", file, err)
	}
	return out
}

func str(v any, path ...string) string {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// state is what a scenario created; its fields replace the samples' fixed values.
type state struct {
	definitionID, exchangeID, offerID, code, accessToken, configurationID string
	presentationDefinitionID                                              string
}

func (s state) replacements() []string {
	var r []string
	add := func(sample, real string) {
		if real != "" {
			r = append(r, sample, real)
		}
	}
	add(sampleDefinitionID, s.definitionID)
	add(samplePresentationDefinitionID, s.presentationDefinitionID)
	add(sampleExchangeID, s.exchangeID)
	add(sampleOfferID, s.offerID)
	add(sampleCode, url.QueryEscape(s.code))
	add(sampleAccessToken, s.accessToken)
	if s.configurationID != "" {
		// The request body is a JSON string inside the event, so its quotes are escaped.
		r = append(r, `\"credential_configuration_id\":\"`+sampleConfigurationID+`\"`,
			`\"credential_configuration_id\":\"`+s.configurationID+`\"`)
	}
	return r
}

func (h *harness) definition(t *testing.T) state {
	t.Helper()
	out := h.mustStatus(t, "DefinitionsFunction", "definitions.json", http.StatusCreated)
	id := str(out, "credentialDefinition", "credentialDefinitionId")
	if id == "" {
		t.Fatalf("setup: no credentialDefinitionId in %v", out)
	}
	return state{definitionID: id}
}

func (h *harness) presentationDefinition(t *testing.T) state {
	t.Helper()
	out := h.mustStatus(t, "DefinitionsFunction", "definitions-presentation.json", http.StatusCreated)
	id := str(out, "presentationDefinition", "presentationDefinitionId")
	if id == "" {
		t.Fatalf("setup: no presentationDefinitionId in %v", out)
	}
	return state{presentationDefinitionID: id}
}

func offerIDOf(t *testing.T, offer string) string {
	t.Helper()
	u, err := url.Parse(offer)
	if err != nil {
		t.Fatalf("setup: offer %q: %v", offer, err)
	}
	ref := u.Query().Get("credential_offer_uri")
	if ref == "" {
		t.Fatalf("setup: offer %q is not by reference", offer)
	}
	return ref[strings.LastIndex(ref, "/")+1:]
}

func (h *harness) inTimeExchange(t *testing.T) state {
	t.Helper()
	s := h.definition(t)
	out := h.mustStatus(t, "IssueFunction", "issue.json", http.StatusOK, s.replacements()...)
	s.exchangeID = str(out, "credentialHistory", "credentialExchangeId")
	s.offerID = offerIDOf(t, str(out, "credentialHistory", "credentialOffer"))
	return s
}

func (h *harness) deferredExchange(t *testing.T) state {
	t.Helper()
	s := h.definition(t)
	out := h.mustStatus(t, "IssueFunction", "issue-deferred.json", http.StatusOK, s.replacements()...)
	s.exchangeID = str(out, "credentialHistory", "credentialExchangeId")
	s.offerID = offerIDOf(t, str(out, "credentialHistory", "credentialOffer"))
	return s
}

// preAuthorized redeems nothing yet: it fetches the offer and reads its pre-authorized code.
func (h *harness) preAuthorized(t *testing.T) state {
	t.Helper()
	s := h.inTimeExchange(t)
	offer := h.mustStatus(t, "MetadataFunction", "metadata-credential-offer.json", http.StatusOK, s.replacements()...)
	grants, _ := offer["grants"].(map[string]any)
	s.code = str(grants, preAuthGrant, "pre-authorized_code")
	if s.code == "" {
		t.Fatalf("setup: the offer has no pre-authorized code: %v", offer)
	}
	if ids, _ := offer["credential_configuration_ids"].([]any); len(ids) > 0 {
		s.configurationID, _ = ids[0].(string)
	}
	return s
}

func (h *harness) accessToken(t *testing.T) state {
	t.Helper()
	s := h.preAuthorized(t)
	out := h.mustStatus(t, "TokenFunction", "token.json", http.StatusOK, s.replacements()...)
	s.accessToken = str(out, "access_token")
	if s.accessToken == "" {
		t.Fatalf("setup: no access_token in the token response")
	}
	return s
}

// scenario says how to prepare the state a sample needs, and what a sensible answer is.
type scenario struct {
	prepare func(h *harness, t *testing.T) state
	// status lists the acceptable statuses of an API Gateway event.
	status []int
	// check inspects the answer (or, for EventBridge events, the state afterwards).
	check func(h *harness, t *testing.T, s state, body []byte)
}

func none(*harness, *testing.T) state { return state{} }

// historyStatus reads an exchange back through the status function.
func (h *harness) history(t *testing.T, exchangeID string) map[string]any {
	t.Helper()
	out := h.mustStatus(t, "StatusFunction", "status.json", http.StatusOK, sampleExchangeID, exchangeID)
	rec, _ := out["credentialHistory"].(map[string]any)
	return rec
}

func jsonHas(keys ...string) func(h *harness, t *testing.T, s state, body []byte) {
	return func(_ *harness, t *testing.T, _ state, body []byte) {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("body is not a JSON object: %v", err)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("body lacks %q: %s", k, body)
			}
		}
	}
}

func oauthError(codes ...string) func(h *harness, t *testing.T, s state, body []byte) {
	return func(_ *harness, t *testing.T, _ state, body []byte) {
		t.Helper()
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("body is not an OAuth error: %v", err)
		}
		for _, c := range codes {
			if e.Error == c {
				return
			}
		}
		t.Errorf("error %q, want one of %v: %s", e.Error, codes, body)
	}
}

var scenarios = map[string]scenario{
	"definitions.json":        {prepare: none, status: []int{201}, check: jsonHas("credentialDefinition")},
	"definitions-get.json":    {prepare: (*harness).definition, status: []int{200}, check: jsonHas("credentialDefinition")},
	"definitions-put.json":    {prepare: (*harness).definition, status: []int{200}, check: jsonHas("credentialDefinition")},
	"definitions-delete.json": {prepare: (*harness).definition, status: []int{200, 204}, check: gone("DefinitionsFunction", "definitions-get.json")},
	"definitions-list.json":   {prepare: (*harness).definition, status: []int{200}},

	"definitions-presentation.json":        {prepare: none, status: []int{201}, check: jsonHas("presentationDefinition")},
	"definitions-presentation-get.json":    {prepare: (*harness).presentationDefinition, status: []int{200}, check: jsonHas("presentationDefinition")},
	"definitions-presentation-put.json":    {prepare: (*harness).presentationDefinition, status: []int{200}, check: jsonHas("presentationDefinition")},
	"definitions-presentation-delete.json": {prepare: (*harness).presentationDefinition, status: []int{204}, check: gone("DefinitionsFunction", "definitions-presentation-get.json")},
	"definitions-presentation-list.json":   {prepare: (*harness).presentationDefinition, status: []int{200}, check: jsonHas("presentationDefinitions", "pagination")},

	"issue.json":                    {prepare: (*harness).definition, status: []int{200}, check: jsonHas("credentialHistory")},
	"issue-deferred.json":           {prepare: (*harness).definition, status: []int{200}, check: jsonHas("credentialHistory")},
	"issue-without-definition.json": {prepare: none, status: []int{200}, check: jsonHas("credentialHistory")},
	"issue-individual-put.json":     {prepare: none, status: []int{200, 201, 204}},
	"issue-individual-get.json": {prepare: func(h *harness, t *testing.T) state {
		h.call(t, "IssueFunction", sample(t, "issue-individual-put.json"))
		return state{}
	}, status: []int{200}},
	"issue-individual-delete.json": {prepare: func(h *harness, t *testing.T) state {
		h.call(t, "IssueFunction", sample(t, "issue-individual-put.json"))
		return state{}
	}, status: []int{200, 204}},

	"status.json":          {prepare: (*harness).inTimeExchange, status: []int{200}, check: jsonHas("credentialHistory")},
	"status-list.json":     {prepare: (*harness).inTimeExchange, status: []int{200}, check: jsonHas("credentialHistory", "pagination")},
	"status-delete.json":   {prepare: (*harness).inTimeExchange, status: []int{200, 204}, check: gone("StatusFunction", "status.json")},
	"status-offer-qr.json": {prepare: (*harness).inTimeExchange, status: []int{200}, check: isPNG},
	// Before a credential is issued there is nothing to revoke yet (409); the definition supports revocation, so
	// never 400.
	"status-revocation.json": {prepare: (*harness).inTimeExchange, status: []int{200, 409}},

	"deferred-issue.json": {prepare: (*harness).deferredExchange, status: []int{200}, check: func(h *harness, t *testing.T, s state, _ []byte) {
		if got := str(h.history(t, s.exchangeID), "credentialStatus"); got != "ready" {
			t.Errorf("credentialStatus %q after completion, want ready", got)
		}
	}},
	"deferred-issue-put-denied.json": {prepare: (*harness).deferredExchange, status: []int{200}, check: func(h *harness, t *testing.T, s state, _ []byte) {
		if got := str(h.history(t, s.exchangeID), "status"); got != "issuance_denied" {
			t.Errorf("status %q after denial, want issuance_denied", got)
		}
	}},
	"deferred-issue-eventbridge.json": {prepare: (*harness).deferredExchange, check: func(h *harness, t *testing.T, s state, _ []byte) {
		if got := str(h.history(t, s.exchangeID), "credentialStatus"); got != "ready" {
			t.Errorf("credentialStatus %q after the DeferredCredentialReady event, want ready", got)
		}
	}},
	"deferred-issue-eventbridge-denied.json": {prepare: (*harness).deferredExchange, check: func(h *harness, t *testing.T, s state, _ []byte) {
		if got := str(h.history(t, s.exchangeID), "status"); got != "issuance_denied" {
			t.Errorf("status %q after the DeferredCredentialDenied event, want issuance_denied", got)
		}
	}},

	"metadata.json": {prepare: none, status: []int{200}, check: func(_ *harness, t *testing.T, _ state, body []byte) {
		var m struct {
			CredentialIssuer string `json:"credential_issuer"`
		}
		if err := json.Unmarshal(body, &m); err != nil || m.CredentialIssuer != sampleIssuerURL {
			t.Errorf("credential_issuer %q (%v), want %q", m.CredentialIssuer, err, sampleIssuerURL)
		}
	}},
	"metadata-oauth-authorization-server.json": {prepare: none, status: []int{200}, check: jsonHas("issuer", "token_endpoint")},
	"metadata-jwt-vc-issuer.json":              {prepare: none, status: []int{200}, check: jsonHas("issuer", "jwks")},
	// The samples' issuer URL has no path: the path-inserted locations are another issuer's, 404.
	"metadata-path-inserted.json":                            {prepare: none, status: []int{404}},
	"metadata-oauth-authorization-server-path-inserted.json": {prepare: none, status: []int{404}},
	"metadata-jwt-vc-issuer-path-inserted.json":              {prepare: none, status: []int{404}},
	"metadata-credential-offer.json":                         {prepare: (*harness).inTimeExchange, status: []int{200}, check: jsonHas("credential_issuer", "credential_configuration_ids", "grants")},
	"metadata-status-list.json":                              {prepare: (*harness).inTimeExchange, status: []int{200, 404}},
	// No definition names <issuer>/vct/employee-id in the sample table: the route answers 404, never a 5xx.
	"metadata-type-metadata.json": {prepare: none, status: []int{404}},

	// The authorization code flow's samples name no pushed request, session or code of the sample table: each
	// answers the OAuth error a wallet would get, never a server error.
	"authorize.json":                {prepare: none, status: []int{400}, check: oauthError("invalid_request")},
	"authorize-authorization.json":  {prepare: none, status: []int{400}, check: oauthError("invalid_request")},
	"authorize-direct-post.json":    {prepare: none, status: []int{400}, check: oauthError("invalid_request")},
	"token-authorization-code.json": {prepare: none, status: []int{400}, check: oauthError("invalid_grant")},
	"token.json":                    {prepare: (*harness).preAuthorized, status: []int{200}, check: jsonHas("access_token", "token_type")},
	"token-draft12-user-pin.json":   {prepare: (*harness).preAuthorized, status: []int{200}, check: jsonHas("access_token", "token_type")},
	"credential-nonce.json":         {prepare: none, status: []int{200}, check: jsonHas("c_nonce")},
	// The samples' proof is signed for a nonce this issuer never gave out: with a real access token the answer
	// must be the proof's rejection, not an authentication or server error.
	"credential.json":           {prepare: (*harness).accessToken, status: []int{400}, check: oauthError("invalid_nonce", "invalid_proof")},
	"credential-draft13.json":   {prepare: (*harness).accessToken, status: []int{400}, check: oauthError("invalid_nonce", "invalid_proof")},
	"deferred-credential.json":  {prepare: (*harness).accessToken, status: []int{400}, check: oauthError("invalid_transaction_id")},
	"notification.json":         {prepare: (*harness).accessToken, status: []int{400}, check: oauthError("invalid_notification_id")},
	"notification-failure.json": {prepare: (*harness).accessToken, status: []int{400}, check: oauthError("invalid_notification_id")},

	"console.json": {prepare: none, status: []int{200}, check: bodyHas(`<script type="module" src="console/app.js">`)},

	// The stream batches carry their items: nothing to prepare. The publisher derives and publishes their events.
	"publisher.json": {prepare: none, check: published(sampleExchangeID, "credential.offer_received", 2,
		func(t *testing.T, d historyrecord.Event) {
			if d.Status != "offer_received" || d.CredentialOffer != "" || d.Credential != nil || len(d.Credentials) != 0 {
				t.Errorf("detail %+v, want the status without the offer link or claims", d)
			}
		})},
	"publisher-revocation.json": {prepare: none, check: published(sampleExchangeID, "credential.revocation_status_changed", 5,
		func(t *testing.T, d historyrecord.Event) {
			if d.RevocationStatus != "Suspended" || d.CredentialDefinitionID != sampleDefinitionID || !d.SupportRevocation {
				t.Errorf("detail %+v, want the revocation item's minimal record", d)
			}
		})},
	"console-asset.json": {prepare: none, status: []int{200}, check: bodyHas("renderKeyScreen")},
}

// published checks that the publisher reported no failed record and published exactly one event for the batch, of
// detailType and version for exchange id, whose detail check accepts.
func published(id, detailType string, version int64, check func(*testing.T, historyrecord.Event)) func(h *harness, t *testing.T, s state, body []byte) {
	return func(h *harness, t *testing.T, _ state, body []byte) {
		t.Helper()
		var resp awsevents.DynamoDBEventResponse
		if err := json.Unmarshal(body, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("answer %s (%v), want no batch item failures", body, err)
		}
		var got []exchange.Event
		for _, e := range h.events.Events()[h.mark:] {
			if e.ExchangeID == id {
				got = append(got, e)
			}
		}
		if len(got) != 1 || got[0].DetailType != detailType || got[0].Detail.Version != version {
			t.Fatalf("events %+v, want one %s of version %d", got, detailType, version)
		}
		check(t, historyrecord.EventOf(&got[0]))
	}
}

// bodyHas checks that a text answer contains want.
func bodyHas(want string) func(h *harness, t *testing.T, s state, body []byte) {
	return func(_ *harness, t *testing.T, _ state, body []byte) {
		t.Helper()
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("body lacks %q: %s", want, truncate(body))
		}
	}
}

// gone checks that reading the deleted item back with another sample answers 404.
func gone(function, readFile string) func(h *harness, t *testing.T, s state, body []byte) {
	return func(h *harness, t *testing.T, s state, _ []byte) {
		t.Helper()
		resp, body := h.call(t, function, sample(t, readFile, s.replacements()...))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s after the delete: %d, want 404: %s", readFile, resp.StatusCode, truncate(body))
		}
	}
}

func isPNG(_ *harness, t *testing.T, _ state, body []byte) {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("offer QR is not a PNG (%d bytes)", len(body))
	}
}

var camel = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// functionDir is the functions/ directory of a logical ID: DeferredIssueFunction -> deferred-issue.
func functionDir(logicalID string) string {
	return strings.ToLower(camel.ReplaceAllString(strings.TrimSuffix(logicalID, "Function"), "$1-$2"))
}

// functionOfFile maps an event file to the function whose dir is its longest prefix (README.md, Naming).
func functionOfFile(name string, ids []string) string {
	base := strings.TrimSuffix(name, ".json")
	best, bestDir := "", ""
	for _, id := range ids {
		dir := functionDir(id)
		if (base == dir || strings.HasPrefix(base, dir+"-")) && len(dir) > len(bestDir) {
			best, bestDir = id, dir
		}
	}
	return best
}

// TestHandlersMatchTemplate checks that handlers.Lambda has exactly the template's functions, each built from
// the functions/ directory its name gives.
func TestHandlersMatchTemplate(t *testing.T) {
	want := testkit.TemplateFunctions(t, "../../template.yaml")
	h := newHarness(t)
	var got []string
	for id := range h.functions {
		got = append(got, id)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("handlers.Lambda has %v, the template %v", got, want)
	}
	for _, id := range want {
		if _, err := os.Stat(filepath.Join("../../functions", functionDir(id), "main.go")); err != nil {
			t.Errorf("%s: no functions/%s/main.go", id, functionDir(id))
		}
	}
}

func TestFunctionOfFile(t *testing.T) {
	ids := []string{"CredentialFunction", "DeferredCredentialFunction", "DeferredIssueFunction", "IssueFunction"}
	tests := []struct{ file, want string }{
		{"credential.json", "CredentialFunction"},
		{"credential-nonce.json", "CredentialFunction"},
		{"deferred-credential.json", "DeferredCredentialFunction"},
		{"deferred-issue-eventbridge.json", "DeferredIssueFunction"},
		{"issue-deferred.json", "IssueFunction"},
		{"issues.json", ""},
	}
	for _, tc := range tests {
		if got := functionOfFile(tc.file, ids); got != tc.want {
			t.Errorf("functionOfFile(%q) = %q, want %q", tc.file, got, tc.want)
		}
	}
}

// TestSampleEvents invokes the handler of every sample event, after creating the state the event refers to, and
// checks a sensible answer: the expected status (never a 5xx) and the effect.
func TestSampleEvents(t *testing.T) {
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	ids := testkit.TemplateFunctions(t, "../../template.yaml")
	h := newHarness(t)
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			sc, ok := scenarios[file]
			if !ok {
				t.Fatalf("%s has no scenario in events_test.go: add what it needs and what it must answer", file)
			}
			function := functionOfFile(file, ids)
			if function == "" {
				t.Fatalf("%s is named after no function of the template", file)
			}
			s := sc.prepare(h, t)
			payload := sample(t, file, s.replacements()...)
			var probe struct {
				DetailType string            `json:"detail-type"`
				Records    []json.RawMessage `json:"Records"`
			}
			if err := json.Unmarshal(payload, &probe); err != nil {
				t.Fatal(err)
			}
			if len(probe.Records) > 0 {
				// A DynamoDB stream batch: the answer is the partial batch response.
				h.mark = len(h.events.Events())
				out := h.invoke(t, function, payload)
				t.Logf("%s published %d events", function, len(h.events.Events())-h.mark)
				if sc.check != nil {
					sc.check(h, t, s, out)
				}
				return
			}
			if probe.DetailType != "" {
				// An EventBridge event: Lambda reports success by returning without an error.
				h.invoke(t, function, payload)
				if sc.check != nil {
					sc.check(h, t, s, nil)
				}
				return
			}
			resp, body := h.call(t, function, payload)
			if resp.StatusCode >= 500 || !contains(sc.status, resp.StatusCode) {
				t.Fatalf("status %d, want %v: %s", resp.StatusCode, sc.status, truncate(body))
			}
			t.Logf("%s answered %d", function, resp.StatusCode)
			if sc.check != nil {
				sc.check(h, t, s, body)
			}
		})
	}
	for file := range scenarios {
		if _, err := os.Stat(file); err != nil {
			t.Errorf("scenario for %s, which is not a sample event any more", file)
		}
	}
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func truncate(b []byte) string {
	if len(b) > 500 {
		return fmt.Sprintf("%s... (%d bytes)", b[:500], len(b))
	}
	return string(b)
}
