package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sdjwt-issuer/issuer/infra/gateway"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/infra/template"
	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/delivery"
	"github.com/sdjwt-issuer/issuer/shared/events"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
	"github.com/sdjwt-issuer/issuer/shared/platform"
)

const apiKey = "test-admin-key"

// api is the admin API of one test: every admin router over a fresh table of DynamoDB Local, whose stream the
// publisher function reads as the template's mapping does (through the local gateway's stream polling).
type api struct {
	t      testing.TB
	routes map[string]*apigw.Router // by "METHOD resource"
	events *events.Log
	stream *gateway.Gateway
	logs   *bytes.Buffer
	deps   *handlers.Deps
}

// published are the events the publisher published for every write committed so far.
func (a *api) published() []exchange.Event {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.stream.FlushStreams(ctx); err != nil {
		a.t.Fatal(err)
	}
	return a.events.Events()
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// localTable is a fresh table of the local stack and the stack's AWS configuration.
func localTable(t testing.TB) (string, aws.Config) {
	t.Helper()
	stack := localstack.ForTest(t)
	ctx := context.Background()
	table := stack.NewTable(ctx, t)
	awsCfg, err := stack.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return table, awsCfg
}

// route serves the routes of routers through a.
func (a *api) route(routers ...*apigw.Router) {
	for _, r := range routers {
		for _, rt := range r.Routes() {
			a.routes[rt] = r
		}
	}
}

func newAPI(t testing.TB, opts ...handlers.Option) *api {
	t.Helper()
	ctx := context.Background()
	table, awsCfg := localTable(t)
	cfg := config.Config{IssuerURL: "https://issuer.example", TableName: table, RetentionDays: 30,
		AdminAPIKeyHashes: []string{apigw.HashAPIKey(apiKey)}, EventSource: "test"}
	logs := &syncBuffer{}
	pub := events.NewLog(slog.New(slog.NewJSONHandler(logs, nil)), 100)
	all := append([]handlers.Option{handlers.WithEvents(pub), handlers.WithLogger(slog.New(slog.NewJSONHandler(logs, nil))),
		handlers.WithDeliveryTimeout(2 * time.Second)}, opts...)
	deps, err := handlers.NewDeps(ctx, cfg, platform.FromAWSConfig(awsCfg), all...)
	if err != nil {
		t.Fatal(err)
	}
	sources, err := template.StreamSources(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stream := gateway.New(nil, map[string]lambda.Handler{"PublisherFunction": handlers.Lambda(deps)["PublisherFunction"]},
		gateway.WithLogger(slog.New(slog.NewJSONHandler(logs, nil))), gateway.WithTableStream(awsCfg, table, sources))
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stream.Close)
	a := &api{t: t, routes: map[string]*apigw.Router{}, events: pub, stream: stream, logs: &logs.Buffer, deps: deps}
	a.route(handlers.Definitions(deps), handlers.Issue(deps), handlers.Status(deps), handlers.DeferredIssue(deps))
	t.Cleanup(func() {
		logs.mu.Lock()
		defer logs.mu.Unlock()
		for _, secret := range []string{"Erika", "Mustermann", "Zq93Wx", apiKey} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("a log line carries %q", secret)
			}
		}
	})
	return a
}

// call sends one proxy event for method and path (a concrete path; the resource is found from the routes).
type call struct {
	method, path string
	body         string
	query        map[string]string
	headers      map[string]string
	noKey        bool
}

type reply struct {
	status  int
	body    string
	headers map[string]string
	binary  bool
}

func (r reply) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", r.status, err, r.body)
	}
}

func (a *api) do(c call) reply {
	a.t.Helper()
	resource, params := a.match(c.method, c.path)
	headers := map[string]string{"Content-Type": "application/json"}
	if !c.noKey {
		headers["Authorization"] = "ApiKey " + apiKey
	}
	for k, v := range c.headers {
		headers[k] = v
	}
	req := apigw.Request{HTTPMethod: c.method, Resource: resource, Path: c.path, PathParameters: params,
		QueryStringParameters: c.query, Headers: headers, Body: c.body}
	router := a.routes[c.method+" "+resource]
	if router == nil {
		router = handlers.Status(a.deps)
	}
	resp, err := router.ServeEvent(context.Background(), req)
	if err != nil {
		a.t.Fatalf("ServeEvent returned an error: %v", err)
	}
	return reply{status: resp.StatusCode, body: resp.Body, headers: resp.Headers, binary: resp.IsBase64Encoded}
}

// match finds the template resource of a concrete path among the registered routes.
func (a *api) match(method, path string) (string, map[string]string) {
	for key := range a.routes {
		m, resource, _ := strings.Cut(key, " ")
		if params, ok := matchPath(resource, path); ok && (m == method || a.routes[method+" "+resource] == nil) {
			if a.routes[method+" "+resource] != nil {
				return resource, params
			}
		}
	}
	for key := range a.routes {
		_, resource, _ := strings.Cut(key, " ")
		if params, ok := matchPath(resource, path); ok {
			return resource, params
		}
	}
	return path, nil
}

func matchPath(resource, path string) (map[string]string, bool) {
	rs, ps := strings.Split(resource, "/"), strings.Split(path, "/")
	if len(rs) != len(ps) {
		return nil, false
	}
	params := map[string]string{}
	for i := range rs {
		if strings.HasPrefix(rs[i], "{") {
			params[strings.Trim(rs[i], "{}")] = ps[i]
		} else if rs[i] != ps[i] {
			return nil, false
		}
	}
	return params, true
}

const base = handlers.AdminBase

const definitionBody = `{
  "label": "Portable Document A1",
  "credentialFormat": "dc+sd-jwt",
  "vct": "PortableDocumentA1",
  "expirationInDays": 365,
  "supportRevocation": true,
  "claims": [
    {"path": ["given_name"], "mandatory": true, "limitDisclosure": true},
    {"path": ["address"], "limitDisclosure": true},
    {"path": ["address", "street_address"], "limitDisclosure": true},
    {"path": ["nationalities", null], "limitDisclosure": true}
  ],
  "display": [{"name": "Portable Document A1", "locale": "en-GB"}]
}`

func (a *api) createDefinition() definition.Definition {
	a.t.Helper()
	r := a.do(call{method: "POST", path: base + "/credential-definition", body: definitionBody})
	if r.status != http.StatusCreated {
		a.t.Fatalf("create definition: %d %s", r.status, r.body)
	}
	var out handlers.DefinitionResponse
	r.json(a.t, &out)
	return out.CredentialDefinition
}

func (a *api) issue(body string) map[string]any {
	a.t.Helper()
	r := a.do(call{method: "POST", path: base + "/credential/issue", body: body})
	if r.status != http.StatusOK {
		a.t.Fatalf("issue: %d %s", r.status, r.body)
	}
	var out map[string]map[string]any
	r.json(a.t, &out)
	return out["credentialHistory"]
}

// listIDs pages through a list route two items at a time and returns the ids (member idMember of each item of
// the array member), in the order listed.
func (a *api) listIDs(path, member, idMember string) []string {
	a.t.Helper()
	var ids []string
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		q := map[string]string{"limit": "2"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		r := a.do(call{method: "GET", path: path, query: q})
		var page map[string]any
		r.json(a.t, &page)
		items, _ := page[member].([]any)
		pg, _ := page["pagination"].(map[string]any)
		if r.status != 200 || pg["limit"] != float64(2) || len(items) > 2 {
			a.t.Fatalf("list %s: %d %s", path, r.status, r.body)
		}
		for _, it := range items {
			id, _ := it.(map[string]any)[idMember].(string)
			ids = append(ids, id)
		}
		if cursor, _ = pg["nextCursor"].(string); cursor == "" {
			break
		}
	}
	return ids
}

func TestDefinitionsAPI(t *testing.T) {
	a := newAPI(t)
	def := a.createDefinition()
	if def.ID == "" || def.CreatedAt == 0 || def.VCT != "PortableDocumentA1" || len(def.Claims) != 4 {
		t.Fatalf("created %+v", def)
	}
	r := a.do(call{method: "GET", path: base + "/credential-definition/" + def.ID})
	var got handlers.DefinitionResponse
	r.json(t, &got)
	if r.status != 200 || got.CredentialDefinition.ID != def.ID || got.CredentialDefinition.Claims[3].Path[1] != nil {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	replaced := strings.Replace(definitionBody, `"label": "Portable Document A1"`, `"label": "PDA1 v2"`, 1)
	r = a.do(call{method: "PUT", path: base + "/credential-definition/" + def.ID, body: replaced})
	r.json(t, &got)
	if r.status != 200 || got.CredentialDefinition.Label != "PDA1 v2" || got.CredentialDefinition.CreatedAt != def.CreatedAt {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	for i := 0; i < 4; i++ {
		a.createDefinition()
	}
	ids := a.listIDs(base+"/credential-definitions", "credentialDefinitions", "credentialDefinitionId")
	if len(ids) != 5 || ids[4] != def.ID {
		t.Fatalf("listed %v, want 5 with the first created last", ids)
	}
	if r := a.do(call{method: "DELETE", path: base + "/credential-definition/" + def.ID}); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if r := a.do(call{method: m, path: base + "/credential-definition/" + def.ID}); r.status != 404 || !strings.Contains(r.body, `"errorCode":404`) {
			t.Fatalf("%s deleted: %d %s", m, r.status, r.body)
		}
	}
	if r := a.do(call{method: "PUT", path: base + "/credential-definition/" + def.ID, body: definitionBody}); r.status != 404 {
		t.Fatalf("replace deleted: %d", r.status)
	}
}

func TestIssueAndHistoryAPI(t *testing.T) {
	a := newAPI(t)
	def := a.createDefinition()
	rec := a.issue(`{"issuanceMode": "InTime", "userPin": "Zq93Wx", "credentialDefinitionId": "` + def.ID + `",
		"credential": {"credentialSubject": {"given_name": "Erika", "family_name": "Mustermann", "nationalities": ["DE"]},
		"credentialMetadata": {"caseId": "A-1"}}}`)
	for _, f := range historyrecord.SeedFields() {
		if _, ok := rec[f]; !ok {
			t.Errorf("issue response lacks %s", f)
		}
	}
	if rec["status"] != "offer_sent" || rec["credentialStatus"] != "ready" || rec["userPin"] != "Zq93Wx" ||
		rec["isPreAuthorised"] != true || rec["credentialDefinitionId"] != def.ID || rec["revocationStatus"] != "Operational" {
		t.Fatalf("issue response %v", rec)
	}
	offer, _ := url.Parse(rec["credentialOffer"].(string))
	if offer.Scheme != "openid-credential-offer" || !strings.HasPrefix(offer.Query().Get("credential_offer_uri"), "https://issuer.example/credential-offer/") {
		t.Fatalf("offer %s", rec["credentialOffer"])
	}
	mapping, _ := json.Marshal(rec["disclosureMapping"])
	if !strings.Contains(string(mapping), `"given_name":{"limitedDisclosure":true}`) || strings.Contains(string(mapping), "Erika") {
		t.Fatalf("disclosure mapping %s", mapping)
	}
	id := rec["credentialExchangeId"].(string)

	r := a.do(call{method: "GET", path: base + "/credential/history/" + id})
	var got map[string]map[string]any
	r.json(t, &got)
	h := got["credentialHistory"]
	if r.status != 200 || h["userPin"] != "" || h["credentialOffer"] != rec["credentialOffer"] ||
		h["credential"].(map[string]any)["credentialMetadata"].(map[string]any)["caseId"] != "A-1" {
		t.Fatalf("get history: %d %s", r.status, r.body)
	}

	// Deferred and dynamic exchanges, for the filters.
	deferred := a.issue(`{"issuanceMode": "Deferred", "credentialDefinitionId": "` + def.ID + `", "urlScheme": "haip://"}`)
	if deferred["credentialStatus"] != "pending" || deferred["credential"] != nil || !strings.HasPrefix(deferred["credentialOffer"].(string), "haip://?") {
		t.Fatalf("deferred %v", deferred)
	}
	dynamic := a.issue(`{"issuanceMode": "InTime", "credential": {"type": ["VerifiableCredential", "Badge"],
		"credentialSubject": {"name": "Erika"}}, "credentials": [{"credentialSubject": {"name": "Max"}}]}`)
	if dynamic["credentialDefinitionId"] != "" || len(dynamic["credentials"].([]any)) != 2 {
		t.Fatalf("dynamic %v", dynamic)
	}

	list := func(q map[string]string) (ids []string) {
		t.Helper()
		for pages := 0; pages < 10; pages++ {
			r := a.do(call{method: "GET", path: base + "/credential/history", query: q})
			var page struct {
				CredentialHistory []map[string]any    `json:"credentialHistory"`
				Pagination        handlers.Pagination `json:"pagination"`
			}
			r.json(t, &page)
			if r.status != 200 {
				t.Fatalf("list %v: %d %s", q, r.status, r.body)
			}
			for _, h := range page.CredentialHistory {
				ids = append(ids, h["credentialExchangeId"].(string))
			}
			if page.Pagination.NextCursor == "" {
				return ids
			}
			q["cursor"] = page.Pagination.NextCursor
		}
		t.Fatal("pagination does not end")
		return nil
	}
	did, yid := deferred["credentialExchangeId"].(string), dynamic["credentialExchangeId"].(string)
	tests := []struct {
		query map[string]string
		want  []string
	}{
		{map[string]string{}, []string{yid, did, id}},
		{map[string]string{"limit": "1"}, []string{yid, did, id}},
		{map[string]string{"credentialDefinitionId": def.ID, "limit": "1"}, []string{did, id}},
		{map[string]string{"status": "offer_sent", "limit": "2"}, []string{yid, did, id}},
		{map[string]string{"status": "credential_issued"}, nil},
		{map[string]string{"status": "offer_sent", "credentialDefinitionId": def.ID}, []string{did, id}},
	}
	for _, tt := range tests {
		if got := list(tt.query); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("list %v: %v, want %v", tt.query, got, tt.want)
		}
	}

	// The QR code of the offer.
	r = a.do(call{method: "GET", path: base + "/credential/history/" + id + "/offer-qr", query: map[string]string{"size": "256"}})
	if r.status != 200 || r.headers["Content-Type"] != "image/png" || !r.binary {
		t.Fatalf("offer-qr: %d %v", r.status, r.headers)
	}
	raw, err := base64.StdEncoding.DecodeString(r.body)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || img.Bounds().Dx() != 256 {
		t.Fatalf("QR png: %v %v", err, img)
	}

	// Events: one credential.offer_sent per exchange, without claims.
	evs := a.published()
	if len(evs) != 3 || evs[0].DetailType != "credential.offer_sent" || evs[0].ExchangeID != id || len(evs[0].Detail.Credentials) != 0 {
		t.Fatalf("events %+v", evs)
	}

	// Delete: the record and its pointers are gone.
	rr, _ := a.deps.Store.GetExchange(context.Background(), id)
	if len(rr.Pointers) != 1 { // the code's single-use guard
		t.Fatalf("pointers %v", rr.Pointers)
	}
	if r := a.do(call{method: "DELETE", path: base + "/credential/history/" + id}); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for _, c := range []call{{method: "GET", path: base + "/credential/history/" + id},
		{method: "DELETE", path: base + "/credential/history/" + id},
		{method: "GET", path: base + "/credential/history/" + id + "/offer-qr"}} {
		if r := a.do(c); r.status != 404 {
			t.Errorf("%s %s after delete: %d", c.method, c.path, r.status)
		}
	}
	if got := list(map[string]string{}); fmt.Sprint(got) != fmt.Sprint([]string{yid, did}) {
		t.Fatalf("list after delete %v", got)
	}
}

func TestOfferDelivery(t *testing.T) {
	var mu sync.Mutex
	var got []url.Values
	wallet := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Query())
		mu.Unlock()
		if r.URL.Path == "/broken" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer wallet.Close()

	// The issuer is https://issuer.example, not a local run: its default client refuses the loopback wallet (from
	// Lambda, loopback is the runtime API), records why, and still answers the issue call.
	refusing := newAPI(t)
	rec := refusing.issue(`{"issuanceMode": "Deferred", "credentialDefinitionId": "` + refusing.createDefinition().ID +
		`", "credentialOfferEndpoint": "` + wallet.URL + `/offer"}`)
	if d := rec["offerDelivery"].(map[string]any); d["outcome"] != "failed" || !strings.Contains(d["error"].(string), "non-public") {
		t.Fatalf("delivery to loopback from a non-local issuer: %v", d)
	}
	if len(got) != 0 {
		t.Fatalf("the loopback wallet was reached: %v", got)
	}

	// The rest plays a local run, where wallets on loopback are allowed.
	a := newAPI(t, handlers.WithHTTPDoer(delivery.NewHTTPClient(2*time.Second, true)))
	def := a.createDefinition()
	rec = a.issue(`{"issuanceMode": "Deferred", "credentialDefinitionId": "` + def.ID + `", "credentialOfferEndpoint": "` + wallet.URL + `/offer"}`)
	d := rec["offerDelivery"].(map[string]any)
	if d["outcome"] != "delivered" || d["httpStatus"] != float64(204) {
		t.Fatalf("delivery %v", d)
	}
	offerURI, _ := url.Parse(rec["credentialOffer"].(string))
	if len(got) != 1 || got[0].Get("credential_offer_uri") != offerURI.Query().Get("credential_offer_uri") {
		t.Fatalf("wallet received %v", got)
	}
	rec = a.issue(`{"issuanceMode": "Deferred", "credentialDefinitionId": "` + def.ID + `", "credentialOfferEndpoint": "` + wallet.URL + `/broken"}`)
	// A failure at a local address tells nothing about the port (docs/security.md, "Port scan through offer delivery").
	if d := rec["offerDelivery"].(map[string]any); d["outcome"] != "failed" || d["httpStatus"] != float64(0) || strings.Contains(d["error"].(string), "502") {
		t.Fatalf("failed delivery %v", d)
	}

	// An individual's registered endpoint.
	ind := base + "/individual/person-7"
	if r := a.do(call{method: "GET", path: ind}); r.status != 404 {
		t.Fatalf("unregistered individual: %d", r.status)
	}
	if r := a.do(call{method: "PUT", path: ind, body: `{"credentialOfferEndpoint": "http://wallet.example/o"}`}); r.status != 400 ||
		!strings.Contains(r.body, "credentialOfferEndpoint") {
		t.Fatalf("http endpoint: %d %s", r.status, r.body)
	}
	if r := a.do(call{method: "PUT", path: ind, body: `{"credentialOfferEndpoint": "` + wallet.URL + `/person"}`}); r.status != 200 ||
		!strings.Contains(r.body, `"individualId":"person-7"`) {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	if r := a.do(call{method: "GET", path: ind}); r.status != 200 || !strings.Contains(r.body, "/person") {
		t.Fatalf("get individual: %d %s", r.status, r.body)
	}
	rec = a.issue(`{"issuanceMode": "Deferred", "credentialDefinitionId": "` + def.ID + `", "individualId": "person-7"}`)
	if d := rec["offerDelivery"].(map[string]any); d["outcome"] != "delivered" || rec["individualId"] != "person-7" {
		t.Fatalf("individual delivery %v", rec)
	}
	if r := a.do(call{method: "DELETE", path: ind}); r.status != 204 {
		t.Fatalf("delete individual: %d", r.status)
	}
	r := a.do(call{method: "POST", path: base + "/credential/issue",
		body: `{"issuanceMode": "Deferred", "credentialDefinitionId": "` + def.ID + `", "individualId": "person-7"}`})
	if r.status != 400 || !strings.Contains(r.body, "individualId") {
		t.Fatalf("issue to deleted individual: %d %s", r.status, r.body)
	}
	// A wallet that does not answer in time: the call still succeeds, the failure is recorded.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	rec = a.issue(`{"issuanceMode": "Deferred", "credentialDefinitionId": "` + def.ID + `", "credentialOfferEndpoint": "` + slow.URL + `"}`)
	// Still bounded by the delivery timeout; a local address's time-out reads like its other failures.
	if d := rec["offerDelivery"].(map[string]any); d["outcome"] != "failed" || d["httpStatus"] != float64(0) || d["error"] == "timed out" {
		t.Fatalf("slow wallet %v", d)
	}
}

func TestAdminAuthentication(t *testing.T) {
	a := newAPI(t)
	routes := []call{
		{method: "POST", path: base + "/credential-definition", body: definitionBody},
		{method: "GET", path: base + "/credential-definition/x"},
		{method: "PUT", path: base + "/credential-definition/x", body: definitionBody},
		{method: "DELETE", path: base + "/credential-definition/x"},
		{method: "GET", path: base + "/credential-definitions"},
		{method: "POST", path: base + "/presentation-definition", body: dcqlDefinitionBody},
		{method: "GET", path: base + "/presentation-definition/x"},
		{method: "PUT", path: base + "/presentation-definition/x", body: dcqlDefinitionBody},
		{method: "DELETE", path: base + "/presentation-definition/x"},
		{method: "GET", path: base + "/presentation-definitions"},
		{method: "POST", path: base + "/credential/issue", body: `{}`},
		{method: "PUT", path: base + "/individual/x", body: `{}`},
		{method: "GET", path: base + "/individual/x"},
		{method: "DELETE", path: base + "/individual/x"},
		{method: "GET", path: base + "/credential/history"},
		{method: "GET", path: base + "/credential/history/x"},
		{method: "DELETE", path: base + "/credential/history/x"},
		{method: "GET", path: base + "/credential/history/x/offer-qr"},
		{method: "PUT", path: base + "/credential/history/x/revocation-status", body: `{}`},
		{method: "PUT", path: base + "/credential/history/x", body: `{}`},
	}
	if len(routes) != len(a.routes) {
		t.Fatalf("%d routes tested, %d registered", len(routes), len(a.routes))
	}
	for _, c := range routes {
		for _, auth := range []string{"", "ApiKey wrong", "Bearer " + apiKey, "ApiKey"} {
			c.noKey = true
			c.headers = map[string]string{}
			if auth != "" {
				c.headers["Authorization"] = auth
			}
			r := a.do(c)
			if r.status != 401 || !strings.Contains(r.body, `"errorCode":401`) {
				t.Errorf("%s %s with %q: %d %s", c.method, c.path, auth, r.status, r.body)
			}
		}
	}
	if r := a.do(call{method: "GET", path: base + "/credential/history"}); r.status != 200 {
		t.Fatalf("with the key: %d %s", r.status, r.body)
	}
}

func TestAdminValidation(t *testing.T) {
	a := newAPI(t)
	def := a.createDefinition()
	issue := base + "/credential/issue"
	valid := `{"issuanceMode": "InTime", "credentialDefinitionId": "` + def.ID + `", "credential": {"credentialSubject": {"given_name": "Erika"}}}`
	with := func(field, value string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(valid), &m)
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			t.Fatalf("bad test value %s", value)
		}
		m[field] = v
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name   string
		c      call
		status int
		names  string
	}{
		{"valid", call{method: "POST", path: issue, body: valid}, 200, ""},
		{"empty body", call{method: "POST", path: issue, body: ""}, 400, "empty"},
		{"not JSON", call{method: "POST", path: issue, body: "{issuanceMode"}, 400, "not valid JSON"},
		{"truncated", call{method: "POST", path: issue, body: `{"issuanceMode": "InTime"`}, 400, "JSON"},
		{"array body", call{method: "POST", path: issue, body: `[]`}, 400, "JSON object"},
		{"trailing data", call{method: "POST", path: issue, body: valid + "{}"}, 400, "more than one JSON value"},
		{"text content type", call{method: "POST", path: issue, body: valid, headers: map[string]string{"Content-Type": "text/plain"}}, 415, "Content-Type"},
		{"too large", call{method: "POST", path: issue, body: `{"x": "` + strings.Repeat("a", apigw.MaxBodyBytes) + `"}`}, 413, "larger"},
		{"mode number", call{method: "POST", path: issue, body: with("issuanceMode", `1`)}, 400, "issuanceMode"},
		{"mode missing", call{method: "POST", path: issue, body: with("issuanceMode", `""`)}, 400, "issuanceMode"},
		{"mode unknown", call{method: "POST", path: issue, body: with("issuanceMode", `"Now"`)}, 400, "issuanceMode"},
		{"pin number", call{method: "POST", path: issue, body: with("userPin", `4821`)}, 400, "userPin"},
		{"pin too long", call{method: "POST", path: issue, body: with("userPin", `"1234567890123"`)}, 400, "userPin"},
		{"credential string", call{method: "POST", path: issue, body: with("credential", `"x"`)}, 400, "credential"},
		{"subject array", call{method: "POST", path: issue, body: with("credential", `{"credentialSubject": []}`)}, 400, "credential.credentialSubject"},
		{"credentials object", call{method: "POST", path: issue, body: with("credentials", `{}`)}, 400, "credentials"},
		{"credentials item subject missing", call{method: "POST", path: issue, body: with("credentials", `[{}]`)}, 400, "credentials[0].credentialSubject"},
		{"reserved claim", call{method: "POST", path: issue, body: with("credential", `{"credentialSubject": {"cnf": {}}}`)}, 400, "credential.credentialSubject.cnf"},
		{"type wrong", call{method: "POST", path: issue, body: with("credential", `{"type": {}, "credentialSubject": {"a": 1}}`)}, 400, "credential.type"},
		{"type mismatch", call{method: "POST", path: issue, body: with("credential", `{"type": "Other", "credentialSubject": {"a": 1}}`)}, 400, "credential.type"},
		{"unknown definition", call{method: "POST", path: issue, body: with("credentialDefinitionId", `"nope"`)}, 400, "credentialDefinitionId"},
		{"definition id number", call{method: "POST", path: issue, body: with("credentialDefinitionId", `7`)}, 400, "credentialDefinitionId"},
		{"scheme", call{method: "POST", path: issue, body: with("urlScheme", `"https://"`)}, 400, "urlScheme"},
		{"endpoint not https", call{method: "POST", path: issue, body: with("credentialOfferEndpoint", `"http://wallet.example/o"`)}, 400, "credentialOfferEndpoint"},
		{"presentation definition", call{method: "POST", path: issue, body: with("presentationDefinitionId", `"pd-1"`)}, 400, "presentationDefinitionId"},
		{"transaction data", call{method: "POST", path: issue, body: with("transactionData", `{"a": 1}`)}, 400, "transactionData"},
		{"def label missing", call{method: "POST", path: base + "/credential-definition", body: strings.Replace(definitionBody, `"Portable Document A1",
  "credentialFormat"`, `"", "credentialFormat"`, 1)}, 400, "label"},
		{"def expiry string", call{method: "POST", path: base + "/credential-definition", body: strings.Replace(definitionBody, `365`, `"365"`, 1)}, 400, "expirationInDays"},
		{"def expiry zero", call{method: "POST", path: base + "/credential-definition", body: strings.Replace(definitionBody, `365`, `0`, 1)}, 400, "expirationInDays"},
		{"def expiry fraction", call{method: "POST", path: base + "/credential-definition", body: strings.Replace(definitionBody, `365`, `1.5`, 1)}, 400, "expirationInDays"},
		{"def format", call{method: "POST", path: base + "/credential-definition", body: strings.Replace(definitionBody, `dc+sd-jwt`, `ldp_vc`, 1)}, 400, "credentialFormat"},
		{"mdoc without doctype", call{method: "POST", path: base + "/credential-definition", body: strings.Replace(definitionBody, `dc+sd-jwt`, `mso_mdoc`, 1)}, 400, "doctype"},
		{"def vct", call{method: "POST", path: base + "/credential-definition", body: strings.Replace(definitionBody, `"PortableDocumentA1"`, `""`, 1)}, 400, "vct"},
		{"def path element", call{method: "POST", path: base + "/credential-definition", body: strings.Replace(definitionBody, `["given_name"]`, `["given_name", true]`, 1)}, 400, "claims[0].path[1]"},
		{"def reserved path", call{method: "POST", path: base + "/credential-definition", body: strings.Replace(definitionBody, `["given_name"]`, `["iss"]`, 1)}, 400, "claims[0].path[0]"},
		{"def claims object", call{method: "POST", path: base + "/credential-definition", body: strings.Replace(definitionBody, `"claims": [`, `"claims": {"a": [`, 1)}, 400, "JSON"},
		{"limit text", call{method: "GET", path: base + "/credential/history", query: map[string]string{"limit": "ten"}}, 400, "limit"},
		{"limit zero", call{method: "GET", path: base + "/credential/history", query: map[string]string{"limit": "0"}}, 400, "limit"},
		{"limit large", call{method: "GET", path: base + "/credential/history", query: map[string]string{"limit": "101"}}, 400, "limit"},
		{"definitions limit", call{method: "GET", path: base + "/credential-definitions", query: map[string]string{"limit": "-3"}}, 400, "limit"},
		{"cursor", call{method: "GET", path: base + "/credential/history", query: map[string]string{"cursor": "bm90IGEgY3Vyc29y"}}, 400, "cursor"},
		{"definitions cursor", call{method: "GET", path: base + "/credential-definitions", query: map[string]string{"cursor": "%%%"}}, 400, "cursor"},
		{"status filter", call{method: "GET", path: base + "/credential/history", query: map[string]string{"status": "lost"}}, 400, "status"},
		{"definition filter", call{method: "GET", path: base + "/credential/history", query: map[string]string{"credentialDefinitionId": "a#b"}}, 400, "credentialDefinitionId"},
		{"qr size", call{method: "GET", path: base + "/credential/history/x/offer-qr", query: map[string]string{"size": "5"}}, 400, "size"},
		{"history id", call{method: "GET", path: base + "/credential/history/a%23b"}, 400, "credentialExchangeId"},
		{"unknown history", call{method: "GET", path: base + "/credential/history/nope"}, 404, "not found"},
		{"individual body", call{method: "PUT", path: base + "/individual/p", body: `{"credentialOfferEndpoint": 5}`}, 400, "credentialOfferEndpoint"},
		{"individual missing endpoint", call{method: "PUT", path: base + "/individual/p", body: `{}`}, 400, "credentialOfferEndpoint"},
		{"method not allowed", call{method: "PATCH", path: base + "/credential/history/x"}, 405, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(tt.c)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status >= 400 {
				var e struct {
					ErrorCode        int    `json:"errorCode"`
					ErrorDescription string `json:"errorDescription"`
				}
				r.json(t, &e)
				if e.ErrorCode != tt.status || !strings.Contains(e.ErrorDescription, tt.names) {
					t.Fatalf("error %+v does not name %q", e, tt.names)
				}
				if strings.Contains(e.ErrorDescription, "Erika") {
					t.Fatal("error quotes a claim value")
				}
			}
		})
	}
}
