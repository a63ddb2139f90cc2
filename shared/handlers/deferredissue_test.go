package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/awscalls"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
)

const deferredBody = `{"credential": {"credentialSubject": {"given_name": "Erika", "family_name": "Mustermann"},
	"credentialMetadata": {"employeeNumber": "000123"}}}`

func (a *api) deferredExchange(defID string) string {
	a.t.Helper()
	rec := a.issue(`{"issuanceMode": "Deferred", "credentialDefinitionId": "` + defID + `"}`)
	return rec["credentialExchangeId"].(string)
}

func (a *api) stored(id string) exchange.Record {
	a.t.Helper()
	rec, err := a.deps.Store.GetExchange(context.Background(), id)
	if err != nil {
		a.t.Fatal(err)
	}
	return rec
}

func TestDeferredIssueAPI(t *testing.T) {
	a := newAPI(t)
	def := a.createDefinition()
	inTime := a.issue(`{"issuanceMode": "InTime", "credentialDefinitionId": "` + def.ID + `",
		"credential": {"credentialSubject": {"given_name": "Erika"}}}`)["credentialExchangeId"].(string)
	completed := a.deferredExchange(def.ID)
	denied := a.deferredExchange(def.ID)
	fresh := a.deferredExchange(def.ID)
	path := func(id string) string { return base + "/credential/history/" + id }

	tests := []struct {
		name   string
		c      call
		status int
		want   []string // substrings of the body
	}{
		{name: "complete", c: call{method: "PUT", path: path(completed), body: deferredBody}, status: 200,
			want: []string{`"credentialStatus":"ready"`, `"status":"offer_sent"`, `"given_name":"Erika"`, `"employeeNumber":"000123"`}},
		{name: "same completion again", c: call{method: "PUT", path: path(completed), body: deferredBody}, status: 200,
			want: []string{`"credentialStatus":"ready"`}},
		{name: "different completion", c: call{method: "PUT", path: path(completed),
			body: `{"credential": {"credentialSubject": {"given_name": "Max"}}}`}, status: 409,
			want: []string{`"errorCode":409`, "already has different claims"}},
		{name: "deny", c: call{method: "PUT", path: path(denied),
			body: `{"issuanceDenied": true, "issuanceDeniedReason": "Employment record could not be confirmed"}`}, status: 200,
			want: []string{`"status":"issuance_denied"`, `"issuanceDeniedReason":"Employment record could not be confirmed"`}},
		{name: "same denial again", c: call{method: "PUT", path: path(denied),
			body: `{"issuanceDenied": true, "issuanceDeniedReason": "Employment record could not be confirmed"}`}, status: 200,
			want: []string{`"status":"issuance_denied"`}},
		{name: "complete after denial", c: call{method: "PUT", path: path(denied), body: deferredBody}, status: 409,
			want: []string{"was denied"}},
		{name: "InTime exchange", c: call{method: "PUT", path: path(inTime), body: deferredBody}, status: 409,
			want: []string{"InTime"}},
		{name: "unknown exchange", c: call{method: "PUT", path: path("no-such-exchange"), body: deferredBody}, status: 404,
			want: []string{`"errorCode":404`}},
		{name: "wrong type names the field", c: call{method: "PUT", path: path(fresh),
			body: `{"credential": {"credentialSubject": "Erika"}}`}, status: 400, want: []string{"credential.credentialSubject"}},
		{name: "no claims", c: call{method: "PUT", path: path(fresh), body: `{}`}, status: 400,
			want: []string{"credential.credentialSubject: is required"}},
		{name: "reserved claim", c: call{method: "PUT", path: path(fresh),
			body: `{"credentials": [{"credentialSubject": {"given_name": "Erika"}}, {"credentialSubject": {"cnf": {}}}]}`},
			status: 400, want: []string{"credentials[1].credentialSubject.cnf"}},
		{name: "denial without reason", c: call{method: "PUT", path: path(fresh), body: `{"issuanceDenied": true}`},
			status: 400, want: []string{"issuanceDeniedReason"}},
		{name: "claims and denial", c: call{method: "PUT", path: path(fresh),
			body: `{"issuanceDenied": true, "issuanceDeniedReason": "x", "credential": {"credentialSubject": {"a": 1}}}`},
			status: 400, want: []string{"issuanceDenied"}},
		{name: "not JSON", c: call{method: "PUT", path: path(fresh), body: `{"credential":`}, status: 400},
		{name: "no API key", c: call{method: "PUT", path: path(fresh), body: deferredBody, noKey: true}, status: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(tc.c)
			if r.status != tc.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("body lacks %s: %s", w, r.body)
				}
			}
			if r.status >= 400 && strings.Contains(r.body, "Max") {
				t.Errorf("an error quotes a claim value: %s", r.body)
			}
		})
	}
	if rec := a.stored(fresh); rec.CredentialStatus != exchange.CredentialPending || rec.Version != 1 {
		t.Fatalf("rejected requests changed the record: %s v%d", rec.CredentialStatus, rec.Version)
	}
	if rec := a.stored(completed); rec.Version != 2 {
		t.Fatalf("the completion and its repetition wrote %d times, want once", rec.Version-1)
	}
	var ready int
	for _, e := range a.published() {
		if e.DetailType == admin.EventCredentialReady && e.ExchangeID == completed {
			ready++
		}
	}
	if ready != 1 {
		t.Fatalf("%d credential.ready events, want 1", ready)
	}
}

// sampleEvent reads a sample event of infra/events with the exchange id replaced.
func sampleEvent(t testing.TB, name, id string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "infra", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), "9b2e4c71-0d3a-4f6e-8a1b-5c7d9e2f3a40", id))
}

// TestDeferredIssueLambda drives the Lambda handler with raw payloads, as Lambda (and the local gateway)
// invoke it: the sample proxy events and EventBridge events of infra/events, duplicates and permanent failures.
func TestDeferredIssueLambda(t *testing.T) {
	a := newAPI(t)
	def := a.createDefinition()
	h := handlers.Lambda(a.deps)["DeferredIssueFunction"]
	if h == nil {
		t.Fatal("no DeferredIssueFunction in the registry")
	}
	ctx := context.Background()
	apiKeyHeader := func(b []byte) []byte {
		return []byte(strings.ReplaceAll(string(b), "ApiKey local-dev-key", "ApiKey "+apiKey))
	}
	byEvent, byEventDenied, byPut, byPutDenied := a.deferredExchange(def.ID), a.deferredExchange(def.ID),
		a.deferredExchange(def.ID), a.deferredExchange(def.ID)

	tests := []struct {
		name       string
		payload    []byte
		id         string
		times      int
		status     exchange.Status
		ready      bool
		reason     string
		httpStatus int
	}{
		{name: "EventBridge ready, delivered twice", payload: sampleEvent(t, "deferred-issue-eventbridge.json", byEvent),
			id: byEvent, times: 2, status: exchange.StatusOfferSent, ready: true},
		{name: "EventBridge denied, delivered twice", payload: sampleEvent(t, "deferred-issue-eventbridge-denied.json", byEventDenied),
			id: byEventDenied, times: 2, status: exchange.StatusIssuanceDenied, reason: "Employment record could not be confirmed"},
		{name: "proxy PUT, sent twice", payload: apiKeyHeader(sampleEvent(t, "deferred-issue.json", byPut)), id: byPut, times: 2,
			status: exchange.StatusOfferSent, ready: true, httpStatus: 200},
		{name: "proxy PUT denial", payload: apiKeyHeader(sampleEvent(t, "deferred-issue-put-denied.json", byPutDenied)), id: byPutDenied,
			times: 1, status: exchange.StatusIssuanceDenied, reason: "Employment record could not be confirmed", httpStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < tc.times; i++ {
				out, err := h.Invoke(ctx, tc.payload)
				if err != nil {
					t.Fatalf("delivery %d: %v", i+1, err)
				}
				if tc.httpStatus != 0 {
					var resp struct {
						StatusCode int    `json:"statusCode"`
						Body       string `json:"body"`
					}
					if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != tc.httpStatus {
						t.Fatalf("proxy response %s (%v)", out, err)
					}
				} else if len(out) != 0 && string(out) != "null" {
					t.Fatalf("an EventBridge invocation answered %s", out)
				}
			}
			rec := a.stored(tc.id)
			if rec.Status != tc.status || (rec.CredentialStatus == exchange.CredentialReady) != tc.ready ||
				rec.IssuanceDeniedReason != tc.reason || rec.Version != 2 {
				t.Fatalf("record %s/%s reason %q version %d", rec.Status, rec.CredentialStatus, rec.IssuanceDeniedReason, rec.Version)
			}
			if tc.ready && (len(rec.Credentials) != 1 || rec.Credentials[0].CredentialSubject["given_name"] != "Erika") {
				t.Fatalf("claims %v", rec.Credentials)
			}
		})
	}

	// Permanent failures are acknowledged (no retry) and logged with the id and the reason only.
	event := func(detailType, detail string) []byte {
		return []byte(`{"version": "0", "id": "e-1", "detail-type": "` + detailType + `", "source": "com.example.hr",
			"account": "123456789012", "time": "2026-11-27T00:00:00Z", "region": "eu-central-1", "resources": [],
			"detail": ` + detail + `}`)
	}
	fresh := a.deferredExchange(def.ID)
	permanentCases := []struct {
		name    string
		payload []byte
		logged  string
	}{
		{name: "unknown exchange", payload: event("DeferredCredentialReady",
			`{"credentialExchangeId": "no-such-exchange", "credential": {"credentialSubject": {"given_name": "Erika"}}}`),
			logged: "does not exist"},
		{name: "different claims than applied", payload: event("DeferredCredentialReady",
			`{"credentialExchangeId": "`+byEvent+`", "credential": {"credentialSubject": {"given_name": "Mustermann"}}}`),
			logged: "already has different claims"},
		{name: "completion of a denied exchange", payload: event("DeferredCredentialReady",
			`{"credentialExchangeId": "`+byEventDenied+`", "credential": {"credentialSubject": {"given_name": "Erika"}}}`),
			logged: "was denied"},
		{name: "no exchange id", payload: event("DeferredCredentialReady", `{"credential": {"credentialSubject": {"given_name": "Erika"}}}`),
			logged: "credentialExchangeId is required"},
		{name: "detail not an object", payload: event("DeferredCredentialReady", `"Erika"`), logged: "must be a JSON object"},
		{name: "claims of the wrong type", payload: event("DeferredCredentialReady",
			`{"credentialExchangeId": "`+fresh+`", "credential": {"credentialSubject": ["Erika"]}}`), logged: "credential.credentialSubject"},
		{name: "denial on a Ready event", payload: event("DeferredCredentialReady",
			`{"credentialExchangeId": "`+fresh+`", "issuanceDenied": true, "issuanceDeniedReason": "x"}`), logged: "does not deny"},
		{name: "claims on a Denied event", payload: event("DeferredCredentialDenied",
			`{"credentialExchangeId": "`+fresh+`", "credential": {"credentialSubject": {"given_name": "Erika"}}}`), logged: "carries no claims"},
		{name: "denial without reason", payload: event("DeferredCredentialDenied", `{"credentialExchangeId": "`+fresh+`"}`),
			logged: "issuanceDeniedReason"},
		{name: "other detail-type", payload: event("SomethingElse", `{"credentialExchangeId": "`+fresh+`"}`), logged: "detail-type must be"},
		// docs/security.md, "Forged claims": the event path refuses structural names at any depth, naming the path.
		{name: "forged _sd below the top level", payload: event("DeferredCredentialReady",
			`{"credentialExchangeId": "`+fresh+`", "credential": {"credentialSubject": {"given_name": "Erika",
			"roles": [{"name": "x", "perm": {"_sd": ["Qg1cM4D8Lsi2b2R5WgFPk9tWkI0aaGE9Uoy8M2IlMFU"]}}]}}}`),
			logged: "credential.credentialSubject.roles[0].perm._sd"},
		{name: "forged ... in nested arrays", payload: event("DeferredCredentialReady",
			`{"credentialExchangeId": "`+fresh+`", "credentials": [{"credentialSubject": {"given_name": "Erika",
			"m": [[{"...": "Qg1cM4D8Lsi2b2R5WgFPk9tWkI0aaGE9Uoy8M2IlMFU"}]]}}]}`),
			logged: "credentials[0].credentialSubject.m[0][0]...."},
	}
	for _, tc := range permanentCases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.logs.Len()
			if _, err := h.Invoke(ctx, tc.payload); err != nil {
				t.Fatalf("a permanent failure failed the invocation (EventBridge would retry): %v", err)
			}
			logged := a.logs.String()[before:]
			if !strings.Contains(logged, "deferred completion event dropped") || !strings.Contains(logged, tc.logged) {
				t.Fatalf("log lacks the drop and %q:\n%s", tc.logged, logged)
			}
		})
	}
	if rec := a.stored(fresh); rec.Version != 1 {
		t.Fatal("a dropped event changed the record")
	}
	if _, err := h.Invoke(ctx, []byte(`{"hello": "world"}`)); err == nil {
		t.Fatal("a payload of neither trigger was accepted")
	}
}

// TestDeferredIssueEventTransientFailure: when DynamoDB fails, the invocation fails so EventBridge retries.
func TestDeferredIssueEventTransientFailure(t *testing.T) {
	a := newAPI(t)
	cfg := a.deps.Config
	cfg.TableName = "no-such-table"
	deps, err := handlers.NewDeps(context.Background(), cfg, a.deps.Clients, handlers.WithLogger(a.deps.Log))
	if err != nil {
		t.Fatal(err)
	}
	h := handlers.NewDeferredIssueHandler(deps)
	payload := sampleEvent(t, "deferred-issue-eventbridge.json", "some-exchange")
	if _, err := h.Invoke(context.Background(), payload); err == nil || strings.Contains(err.Error(), "Erika") {
		t.Fatalf("err = %v, want a failure without claims", err)
	}
	// The API answers 500 for the same failure.
	req := call{method: http.MethodPut, path: base + "/credential/history/some-exchange", body: deferredBody}
	resource, params := a.match(req.method, req.path)
	out, err := h.Invoke(context.Background(), mustJSON(t, map[string]any{"httpMethod": "PUT", "resource": resource,
		"path": req.path, "pathParameters": params, "body": req.body,
		"headers": map[string]string{"Authorization": "ApiKey " + apiKey, "Content-Type": "application/json"}}))
	if err != nil || !strings.Contains(string(out), `"statusCode":500`) {
		t.Fatalf("proxy answer %s (%v)", out, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// benchmarkDeferredEvent invokes the DeferredIssueFunction with a DeferredCredentialReady event per iteration
// against DynamoDB Local and reports the AWS calls of the invocation (aws_calls/op). repeat: the exchange was
// already completed with the same claims (the idempotent path of a redelivered event).
func benchmarkDeferredEvent(b *testing.B, repeat bool) {
	a := newAPI(b)
	def := a.createDefinition()
	h := handlers.NewDeferredIssueHandler(a.deps)
	calls := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := a.deferredExchange(def.ID)
		payload := sampleEvent(b, "deferred-issue-eventbridge.json", id)
		if repeat {
			if _, err := h.Invoke(context.Background(), payload); err != nil {
				b.Fatal(err)
			}
		}
		ctx, counter := awscalls.WithCounter(context.Background())
		b.StartTimer()
		if _, err := h.Invoke(ctx, payload); err != nil {
			b.Fatal(err)
		}
		calls += counter.Total()
	}
	b.ReportMetric(float64(calls)/float64(b.N), "aws_calls/op")
}

func BenchmarkDeferredCompletionEventDynamoDB(b *testing.B) { benchmarkDeferredEvent(b, false) }

func BenchmarkDeferredCompletionRedeliveredDynamoDB(b *testing.B) { benchmarkDeferredEvent(b, true) }
