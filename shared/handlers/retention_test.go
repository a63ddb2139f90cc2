package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/platform"
)

// testClock is a settable clock shared by the use cases and the store's expiry checks.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// TestRetentionFromConfiguration: RETENTION_DAYS (config.RetentionDays) is the DynamoDB TTL of every exchange
// item and its pointers, and once it has passed the admin API treats the exchange as absent although DynamoDB
// has not deleted it yet; definitions and individuals are configuration and do not expire.
func TestRetentionFromConfiguration(t *testing.T) {
	tests := []struct {
		name string
		days int
	}{
		{"two days", 2},
		{"default", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			table, awsCfg := localTable(t)
			days := tt.days
			if days == 0 {
				days = config.DefaultRetentionDays
			}
			cfg := config.Config{IssuerURL: "https://issuer.example", TableName: table, RetentionDays: days,
				AdminAPIKeyHashes: []string{apigw.HashAPIKey(apiKey)}}
			clock := &testClock{t: domaintest.Epoch} // ahead of the real clock: DynamoDB Local sweeps TTL by it
			clients := platform.FromAWSConfig(awsCfg)
			deps, err := handlers.NewDeps(ctx, cfg, clients, handlers.WithClock(clock.now),
				handlers.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
			if err != nil {
				t.Fatal(err)
			}
			a := &api{t: t, routes: map[string]*apigw.Router{}, deps: deps}
			a.route(handlers.Definitions(deps), handlers.Issue(deps), handlers.Status(deps))
			def := a.createDefinition()
			if r := a.do(call{method: "PUT", path: base + "/individual/p-1", body: `{"credentialOfferEndpoint": "https://w.example/o"}`}); r.status != 200 {
				t.Fatalf("register individual: %d %s", r.status, r.body)
			}
			rec := a.issue(`{"issuanceMode": "InTime", "userPin": "1234", "credentialDefinitionId": "` + def.ID + `",
				"credential": {"credentialSubject": {"given_name": "Erika"}}}`)
			id := rec["credentialExchangeId"].(string)

			deadline := clock.now().Add(time.Duration(days) * 24 * time.Hour).Unix()
			ttlOf := func(pk, sk string) (int64, bool) {
				out, err := clients.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
					Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}})
				if err != nil || out.Item == nil {
					t.Fatalf("item %s/%s: %v", pk, sk, err)
				}
				n, ok := out.Item["ttl"].(*types.AttributeValueMemberN)
				if !ok {
					return 0, false
				}
				v, _ := strconv.ParseInt(n.Value, 10, 64)
				return v, true
			}
			if got, ok := ttlOf("EXCHANGE#"+id, "EXCHANGE"); !ok || got != deadline {
				t.Fatalf("exchange ttl %d (present %v), want now + %d days = %d", got, ok, days, deadline)
			}
			stored, err := deps.Store.GetExchange(ctx, id)
			if err != nil || len(stored.Pointers) == 0 {
				t.Fatalf("stored exchange: %v %v", err, stored.Pointers)
			}
			for _, p := range stored.Pointers {
				if got, ok := ttlOf(p, "PTR"); !ok || got > deadline || got <= clock.now().Unix() {
					t.Errorf("pointer %s ttl %d, want within the retention (%d)", p[:5], got, deadline)
				}
			}
			if _, ok := ttlOf("DEF#"+def.ID, "DEF"); ok {
				t.Error("a definition carries a ttl")
			}
			if _, ok := ttlOf("INDIVIDUAL#p-1", "INDIVIDUAL"); ok {
				t.Error("an individual's endpoint carries a ttl")
			}

			clock.add(time.Duration(days)*24*time.Hour - time.Second)
			if r := a.do(call{method: "GET", path: base + "/credential/history/" + id}); r.status != http.StatusOK {
				t.Fatalf("within the retention: %d %s", r.status, r.body)
			}
			clock.add(time.Second)
			for _, c := range []call{{method: "GET", path: base + "/credential/history/" + id},
				{method: "GET", path: base + "/credential/history/" + id + "/offer-qr"},
				{method: "DELETE", path: base + "/credential/history/" + id}} {
				if r := a.do(c); r.status != http.StatusNotFound {
					t.Errorf("%s %s past the retention: %d %s", c.method, c.path, r.status, r.body)
				}
			}
			for _, q := range []map[string]string{{}, {"status": string(exchange.StatusOfferSent)}, {"credentialDefinitionId": def.ID}} {
				var page handlers.HistoryListResponse
				r := a.do(call{method: "GET", path: base + "/credential/history", query: q})
				r.json(t, &page)
				if r.status != http.StatusOK || len(page.CredentialHistory) != 0 {
					t.Errorf("list %v past the retention: %d %s", q, r.status, r.body)
				}
			}
			for _, p := range []string{base + "/credential-definition/" + def.ID, base + "/individual/p-1"} {
				if r := a.do(call{method: "GET", path: p}); r.status != http.StatusOK {
					t.Errorf("GET %s after the exchange retention: %d", p, r.status)
				}
			}
		})
	}
}
