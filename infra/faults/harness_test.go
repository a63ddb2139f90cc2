package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
	"github.com/sdjwt-issuer/issuer/infra/load/inproc"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
)

const adminKey = "faults-admin-key"

// env is the issuer served in process on a fresh table of the local stack, its AWS clients running over an
// Injector, and a clean DynamoDB client (no faults) to look behind the API.
type env struct {
	t     *testing.T
	inj   *Injector
	srv   *inproc.Server
	c     *flow.Client
	def   string
	table string
	ddb   *dynamodb.Client
	// start serves the API on the table again with other options (restart); closed marks the servers restart
	// stopped.
	start  func(opts inproc.Options) *inproc.Server
	closed map[*inproc.Server]bool
}

func start(t *testing.T, integrationTimeout time.Duration) *env {
	t.Helper()
	return startWith(t, inproc.Options{IntegrationTimeout: integrationTimeout})
}

// startWith is start with the server options opts (AWS, table, key and admin key are filled in).
func startWith(t *testing.T, opts inproc.Options) *env {
	t.Helper()
	stack := localstack.ForTest(t)
	ctx := context.Background()
	table := stack.NewTable(ctx, t)
	clean, err := stack.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inj := NewInjector(nil)
	cfg := clean.Copy()
	cfg.HTTPClient = inj.Client()
	closed := map[*inproc.Server]bool{} // by restart
	serve := func(opts inproc.Options) *inproc.Server {
		opts.AWS, opts.TableName, opts.KMSKeyID, opts.AdminKey = cfg, table, stack.KeyID, adminKey
		opts.StreamAWS = &clean // the stream is read by Lambda's service, which the faults do not touch
		srv, err := inproc.Start(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if closed[srv] {
				return
			}
			if err := srv.Close(); err != nil {
				t.Error(err)
			}
		})
		return srv
	}
	srv := serve(opts)
	e := &env{t: t, inj: inj, srv: srv, table: table, ddb: dynamodb.NewFromConfig(clean), closed: closed, start: serve,
		c: &flow.Client{BaseURL: srv.URL, AdminKey: adminKey, HTTP: &http.Client{Timeout: 60 * time.Second}}}
	if e.def, err = e.c.CreateDefinition(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// restart stops the server and serves the same table with opts (a new process of every function).
func (e *env) restart(opts inproc.Options) {
	e.t.Helper()
	if err := e.srv.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.closed[e.srv] = true
	e.srv = e.start(opts)
	e.c.BaseURL = e.srv.URL
}

// items is every item of the table, keyed by pk|sk: what "nothing changed" is checked against.
func (e *env) items() map[string]map[string]any {
	e.t.Helper()
	out := map[string]map[string]any{}
	p := dynamodb.NewScanPaginator(e.ddb, &dynamodb.ScanInput{TableName: aws.String(e.table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatalf("scan: %v", err)
		}
		for _, it := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				e.t.Fatal(err)
			}
			out[fmt.Sprintf("%v|%v", m["pk"], m["sk"])] = m
		}
	}
	return out
}

// sameItems fails the test when the table changed, naming the items that differ (keys only: values hold
// personal data and hashed secrets).
func (e *env) sameItems(before, after map[string]map[string]any) {
	e.t.Helper()
	var diff []string
	for k, v := range before {
		if w, ok := after[k]; !ok {
			diff = append(diff, "removed "+k)
		} else if !reflect.DeepEqual(v, w) {
			diff = append(diff, "changed "+k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			diff = append(diff, "added "+k)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		e.t.Errorf("the table changed: %v", diff)
	}
}

// history is the exchange record as the admin API shows it.
func (e *env) history(id string) map[string]any {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+flow.AdminBase+"/credential/history/"+id, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "ApiKey "+adminKey)
	res, err := e.c.HTTP.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		CredentialHistory map[string]any `json:"credentialHistory"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
		e.t.Fatalf("history: HTTP %d: %v", res.StatusCode, err)
	}
	return body.CredentialHistory
}

// redeemed is an exchange whose token has been obtained: what a wallet holds before asking for credentials.
type redeemed struct {
	offer flow.Offer
	token string
}

func (e *env) redeem() redeemed {
	e.t.Helper()
	ctx := context.Background()
	offer, _, err := e.c.Issue(ctx, e.def)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.c.Token(ctx, offer.Code)
	if err != nil {
		e.t.Fatal(err)
	}
	return redeemed{offer: offer, token: tok}
}

func (e *env) nonce() string {
	e.t.Helper()
	n, err := e.c.Nonce(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) holder() *flow.Holder {
	e.t.Helper()
	h, err := flow.NewHolder()
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// credential asks for one credential of r with a fresh holder key and the given nonce.
func (e *env) credential(r redeemed, nonce string) flow.Credential {
	e.t.Helper()
	cred, err := e.c.RequestCredential(context.Background(), r.token, r.offer.Issuer, r.offer.ConfigurationID, e.holder(), nonce)
	if err != nil {
		e.t.Fatal(err)
	}
	return cred
}

// warm runs one full flow, so that the wallet functions have set up their signing key.
func (e *env) warm() {
	e.t.Helper()
	if _, err := e.c.Run(context.Background(), e.def); err != nil {
		e.t.Fatal(err)
	}
}

// stepStatus is the HTTP status of a failed step (0 when err is not a StepError).
func stepStatus(err error) (int, string) {
	var se *flow.StepError
	if errors.As(err, &se) {
		return se.Status, se.Code
	}
	return 0, ""
}
