package admin_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/delivery"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/internal/memstore"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// fakeDoer answers the offer delivery with a status, or an error.
type fakeDoer struct {
	status int
	err    error
	got    *http.Request
}

func (f *fakeDoer) Do(req *http.Request) (*http.Response, error) {
	f.got = req
	if f.err != nil {
		return nil, f.err
	}
	return &http.Response{StatusCode: f.status, Body: io.NopCloser(strings.NewReader("ok"))}, nil
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }

func (timeoutErr) Timeout() bool { return true }

func (timeoutErr) Temporary() bool { return true }

// definitionsDown is a store whose definition reads fail.
type definitionsDown struct {
	*memstore.Store
	err error
}

// GetDefinition fails.
func (d definitionsDown) GetDefinition(context.Context, string) (definition.Definition, error) {
	return definition.Definition{}, d.err
}

// exchanges counts the exchange records stored.
func (e *env) exchanges(t *testing.T) int {
	t.Helper()
	p, err := e.store.ListExchanges(context.Background(), exchange.Filter{}, exchange.PageRequest{Limit: exchange.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Items)
}

// deps are the ports of a service over st (nil: none) that delivers offers through doer.
func deps(st admin.Store, doer delivery.HTTPDoer) admin.Deps {
	d, err := delivery.New(doer, 0)
	if err != nil {
		panic(err)
	}
	if st == nil {
		return admin.Deps{Deliverer: d}
	}
	return admin.Deps{Store: st, Deliverer: d}
}

type env struct {
	svc    *admin.Service
	store  *memstore.Store
	events *domaintest.Events
	doer   *fakeDoer
	now    time.Time
	def    definition.Definition
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{events: &domaintest.Events{}, doer: &fakeDoer{status: 200},
		now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	e.store = memstore.New(memstore.WithClock(func() time.Time { return e.now }), memstore.WithChanges(e.events.Record))
	svc, err := admin.New(admin.Config{IssuerURL: "https://issuer.example/"}, deps(e.store, e.doer),
		exchange.WithClock(func() time.Time { return e.now }),
		exchange.WithRandom(rand.Reader))
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.def, err = svc.DefineCredential(context.Background(), domaintest.DefinitionSpec())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func subject() map[string]any {
	return map[string]any{"given_name": "Erika", "family_name": "Mustermann"}
}

func TestIssueCredentialValidation(t *testing.T) {
	e := newEnv(t)
	if err := e.store.PutIndividual(context.Background(), admin.Individual{IndividualID: "known",
		CredentialOfferEndpoint: "https://w.example/o"}); err != nil {
		t.Fatal(err)
	}
	base := func() admin.IssueRequest {
		return admin.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: e.def.ID,
			Credential: &admin.CredentialInput{CredentialSubject: subject()}}
	}
	tests := []struct {
		name   string
		change func(r *admin.IssueRequest)
		field  string
	}{
		{"valid", func(*admin.IssueRequest) {}, ""},
		{"no mode", func(r *admin.IssueRequest) { r.IssuanceMode = "" }, "issuanceMode"},
		{"bad mode", func(r *admin.IssueRequest) { r.IssuanceMode = "intime" }, "issuanceMode"},
		{"presentation definition", func(r *admin.IssueRequest) { r.PresentationDefinitionID = "pd" }, "presentationDefinitionId"},
		{"transaction data", func(r *admin.IssueRequest) { r.TransactionData = json.RawMessage(`{}`) }, "transactionData"},
		{"transaction data null", func(r *admin.IssueRequest) { r.TransactionData = json.RawMessage(`null`) }, ""},
		{"InTime without claims", func(r *admin.IssueRequest) { r.Credential = nil }, "credential.credentialSubject"},
		{"neither definition nor credential", func(r *admin.IssueRequest) {
			r.IssuanceMode, r.CredentialDefinitionID, r.Credential = "Deferred", "", nil
		}, "credentialDefinitionId"},
		{"no type without definition", func(r *admin.IssueRequest) { r.CredentialDefinitionID = "" }, "credential.type"},
		{"type number", func(r *admin.IssueRequest) { r.Credential.Type = 5.0 }, "credential.type"},
		{"type empty array", func(r *admin.IssueRequest) { r.Credential.Type = []any{} }, "credential.type"},
		{"type element not string", func(r *admin.IssueRequest) { r.Credential.Type = []any{"a", 1.0} }, "credential.type[1]"},
		{"type differs from definition", func(r *admin.IssueRequest) { r.Credential.Type = "Other" }, "credential.type"},
		{"type equals definition", func(r *admin.IssueRequest) {
			r.Credential.Type = []any{"VerifiableCredential", "PortableDocumentA1"}
		}, ""},
		{"dynamic bad vct", func(r *admin.IssueRequest) { r.CredentialDefinitionID = ""; r.Credential.Type = "a b" }, "credential.type"},
		{"unknown definition", func(r *admin.IssueRequest) { r.CredentialDefinitionID = "nope" }, "credentialDefinitionId"},
		{"definition id with #", func(r *admin.IssueRequest) { r.CredentialDefinitionID = "a#b" }, "credentialDefinitionId"},
		{"empty subject", func(r *admin.IssueRequest) { r.Credential.CredentialSubject = map[string]any{} }, "credential.credentialSubject"},
		{"reserved claim", func(r *admin.IssueRequest) { r.Credential.CredentialSubject["iss"] = "x" }, "credential.credentialSubject.iss"},
		{"metadata without subject", func(r *admin.IssueRequest) {
			r.Credential = &admin.CredentialInput{CredentialMetadata: map[string]any{"a": 1.0}}
		}, "credential.credentialSubject"},
		{"credentials item without subject", func(r *admin.IssueRequest) {
			r.Credentials = []admin.CredentialInput{{CredentialSubject: subject()}, {}}
		}, "credentials[1].credentialSubject"},
		{"credentials item with type", func(r *admin.IssueRequest) {
			r.Credentials = []admin.CredentialInput{{CredentialSubject: subject(), Type: "X"}}
		}, "credentials[0].type"},
		{"credentials item reserved claim", func(r *admin.IssueRequest) {
			r.Credentials = []admin.CredentialInput{{CredentialSubject: map[string]any{"vct": "x"}}}
		}, "credentials[0].credentialSubject.vct"},
		{"too many credentials", func(r *admin.IssueRequest) {
			for i := 0; i < 20; i++ {
				r.Credentials = append(r.Credentials, admin.CredentialInput{CredentialSubject: subject()})
			}
		}, "credentials"},
		{"pin with space", func(r *admin.IssueRequest) { r.UserPin = "12 34" }, "userPin"},
		{"pin too long", func(r *admin.IssueRequest) { r.UserPin = "1234567890123" }, "userPin"},
		{"scheme", func(r *admin.IssueRequest) { r.URLScheme = "https://" }, "urlScheme"},
		{"haip", func(r *admin.IssueRequest) { r.URLScheme = "haip://" }, ""},
		{"endpoint http", func(r *admin.IssueRequest) { r.CredentialOfferEndpoint = "http://w.example/o" }, "credentialOfferEndpoint"},
		{"endpoint and individual", func(r *admin.IssueRequest) {
			r.CredentialOfferEndpoint, r.IndividualID = "https://w.example/o", "known"
		}, "individualId"},
		{"unknown individual", func(r *admin.IssueRequest) { r.IndividualID = "stranger" }, "individualId"},
		{"known individual", func(r *admin.IssueRequest) { r.IndividualID = "known" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base()
			tt.change(&req)
			before := e.exchanges(t)
			_, err := e.svc.IssueCredential(context.Background(), req)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("valid request refused: %v", err)
				}
				return
			}
			var v *validation.Error
			if !errors.As(err, &v) || v.Field != tt.field {
				t.Fatalf("err = %v, want a validation error on %s", err, tt.field)
			}
			if e.exchanges(t) != before {
				t.Fatal("a refused request stored an exchange")
			}
			if strings.Contains(v.Error(), "Erika") {
				t.Fatal("validation error quotes a claim value")
			}
		})
	}
	down, err := admin.New(admin.Config{IssuerURL: "https://issuer.example/"},
		deps(definitionsDown{Store: e.store, err: errors.New("dynamodb down")}, e.doer),
		exchange.WithClock(func() time.Time { return e.now }))
	if err != nil {
		t.Fatal(err)
	}
	req := base()
	if _, err := down.IssueCredential(context.Background(), req); err == nil || errors.As(err, new(*validation.Error)) {
		t.Fatalf("store failure surfaced as %v, want an internal error", err)
	}
}

func TestIssueCredentialInTimeWithDefinition(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec, err := e.svc.IssueCredential(ctx, admin.IssueRequest{IssuanceMode: "InTime", UserPin: "4821",
		CredentialDefinitionID: e.def.ID,
		Credential:             &admin.CredentialInput{CredentialSubject: subject(), CredentialMetadata: map[string]any{"ref": "A-1"}},
		Credentials:            []admin.CredentialInput{{CredentialSubject: map[string]any{"given_name": "Max"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != exchange.StatusOfferSent || rec.CredentialStatus != exchange.CredentialReady || !rec.IsPreAuthorised ||
		rec.CredentialDefinitionID != e.def.ID || rec.CredentialFormat != "dc+sd-jwt" ||
		!rec.SupportRevocation || rec.RevocationStatus != exchange.RevocationOperational || len(rec.Credentials) != 2 ||
		rec.Credentials[0].CredentialMetadata["ref"] != "A-1" || rec.CredentialType[0] != "PortableDocumentA1" ||
		rec.CreatedAt != e.now.Unix() || rec.OfferDelivery != nil {
		t.Fatalf("record %+v", rec)
	}
	u, err := url.Parse(rec.CredentialOffer)
	if err != nil || u.Scheme != "openid-credential-offer" {
		t.Fatalf("offer %q", rec.CredentialOffer)
	}
	offerURL := u.Query().Get("credential_offer_uri")
	if !strings.HasPrefix(offerURL, "https://issuer.example/credential-offer/") {
		t.Fatalf("offer uri %q", offerURL)
	}
	offerID, _ := exchange.OfferIDFromDeepLink(rec.CredentialOffer)
	stored, err := e.store.GetExchange(ctx, rec.CredentialExchangeID)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.TxCode.Verify("4821") || stored.TxCode.InputMode != "numeric" ||
		stored.TxCode.Length != 4 || stored.Definition.VCT != "PortableDocumentA1" ||
		stored.ConfigurationID != e.def.ID || stored.ExpiresAt != e.now.Add(30*24*time.Hour).Unix() {
		t.Fatalf("stored internal %+v", stored)
	}
	if id, ok := exchange.SecretExchangeID(offerID); !ok || id != rec.CredentialExchangeID ||
		!exchange.SecretMatches(offerID, stored.OfferIDHash) ||
		!exchange.SecretMatches(exchange.PreAuthorizedCode(offerID), stored.CodeHash) ||
		stored.OfferExpiresAt <= e.now.Unix() {
		t.Fatalf("offer id and code do not name the exchange, or their hashes or validity are not in the record")
	}
	codeKey := exchange.PointerKey(exchange.PointerCode, exchange.PreAuthorizedCode(offerID))
	if p, err := e.store.GetPointer(ctx, codeKey); err != nil || p.ExchangeID != rec.CredentialExchangeID ||
		e.store.LivePointers("") != 1 {
		t.Fatalf("pointers %+v (%d), want only the code's guard", p, e.store.LivePointers(""))
	}
	raw := string(e.store.RawExchange(rec.CredentialExchangeID))
	// The PIN is looked for as a JSON string value: the bare digits can occur by chance inside random ids, salts
	// and hashes.
	for _, secret := range []string{`"4821"`, exchange.PreAuthorizedCode(offerID)} {
		if strings.Contains(raw, secret) {
			t.Fatalf("stored record carries a secret in the clear")
		}
	}
	if len(e.events.All()) != 1 || e.events.All()[0].DetailType != "credential.offer_sent" ||
		len(e.events.All()[0].Detail.Credentials) != 0 || e.events.All()[0].Detail.CredentialOffer != "" {
		t.Fatalf("events %+v", e.events.All())
	}
	if err := e.svc.DeleteExchange(ctx, rec.CredentialExchangeID); err != nil {
		t.Fatal(err)
	}
	if n := e.store.LivePointers(""); n != 0 {
		t.Fatalf("%d pointers left after delete", n)
	}
}

func TestIssueCredentialDeferredAndDynamic(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec, err := e.svc.IssueCredential(ctx, admin.IssueRequest{IssuanceMode: "Deferred", CredentialDefinitionID: e.def.ID,
		URLScheme: "haip://"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.CredentialStatus != exchange.CredentialPending || len(rec.Credentials) != 0 ||
		!strings.HasPrefix(rec.CredentialOffer, "haip://?") {
		t.Fatalf("deferred record %+v", rec)
	}
	dyn, err := e.svc.IssueCredential(ctx, admin.IssueRequest{IssuanceMode: "InTime",
		Credential: &admin.CredentialInput{Type: []any{"VerifiableCredential", "https://example.com/Badge"},
			CredentialSubject: map[string]any{"name": "Erika", "address": map[string]any{"city": "Berlin"}}},
		UserPin: "ab12"})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := e.store.GetExchange(ctx, dyn.CredentialExchangeID)
	if dyn.CredentialDefinitionID != "" || stored.ConfigurationID != "https://example.com/Badge" || !stored.Dynamic ||
		stored.Definition.VCT != "https://example.com/Badge" || len(stored.Definition.Claims) != 2 ||
		!stored.Definition.Claims[0].LimitDisclosure || stored.TxCode.InputMode != "text" {
		t.Fatalf("dynamic record %+v", stored)
	}
	m, _ := json.Marshal(dyn.DisclosureMapping)
	if string(m) != `{"address":{"city":{"limitedDisclosure":false},"limitedDisclosure":true},"name":{"limitedDisclosure":true}}` {
		t.Fatalf("dynamic mapping %s", m)
	}
	cfgs, err := e.store.ListDynamicConfigurations(ctx)
	// docs/security.md, "Claim names in public metadata": the configuration listed in the anonymous metadata
	// keeps no claim names of the exchanges issued under it.
	if err != nil || len(cfgs) != 1 || cfgs[0].VCT != "https://example.com/Badge" || len(cfgs[0].Claims) != 0 {
		t.Fatalf("dynamic configurations %+v, %v", cfgs, err)
	}
}

func TestIssueCredentialDelivery(t *testing.T) {
	tests := []struct {
		name        string
		doer        *fakeDoer
		outcome     string
		status      int
		errContains string
	}{
		{"delivered", &fakeDoer{status: 204}, exchange.DeliveryDelivered, 204, ""},
		{"wallet error", &fakeDoer{status: 500}, exchange.DeliveryFailed, 500, "HTTP 500"},
		{"timeout", &fakeDoer{err: timeoutErr{}}, exchange.DeliveryFailed, 0, "timed out"},
		{"refused", &fakeDoer{err: errors.New("dial tcp: refused")}, exchange.DeliveryFailed, 0, "request failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			svc, _ := admin.New(admin.Config{IssuerURL: "https://issuer.example"}, deps(e.store, tt.doer),
				exchange.WithClock(func() time.Time { return e.now }))
			rec, err := svc.IssueCredential(context.Background(), admin.IssueRequest{IssuanceMode: "Deferred",
				CredentialDefinitionID: e.def.ID, CredentialOfferEndpoint: "https://wallet.example/offer?x=1"})
			if err != nil {
				t.Fatalf("delivery failure failed the call: %v", err)
			}
			d := rec.OfferDelivery
			if d == nil || d.Outcome != tt.outcome || d.HTTPStatus != tt.status || !strings.Contains(d.Error, tt.errContains) ||
				d.Endpoint != "https://wallet.example/offer?x=1" {
				t.Fatalf("delivery %+v", d)
			}
			q := tt.doer.got.URL.Query()
			if tt.doer.got.Method != http.MethodGet || q.Get("x") != "1" || !strings.HasPrefix(q.Get("credential_offer_uri"), "https://issuer.example/credential-offer/") {
				t.Fatalf("delivery request %s %s", tt.doer.got.Method, tt.doer.got.URL)
			}
			stored, _ := e.store.GetExchange(context.Background(), rec.CredentialExchangeID)
			if stored.OfferDelivery == nil || stored.OfferDelivery.Outcome != tt.outcome || stored.Version != 2 {
				t.Fatalf("stored delivery %+v v%d", stored.OfferDelivery, stored.Version)
			}
		})
	}
}

func TestDefinitionsAndIndividualsUseCases(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.now = e.now.Add(time.Hour)
	spec := domaintest.DefinitionSpec()
	spec.Label = "Replaced"
	d, err := e.svc.ReplaceDefinition(ctx, e.def.ID, spec)
	if err != nil || d.Label != "Replaced" || d.CreatedAt != e.def.CreatedAt || d.UpdatedAt != e.now.Unix() || d.Version != 2 {
		t.Fatalf("replace: %+v %v", d, err)
	}
	if _, err := e.svc.ReplaceDefinition(ctx, "missing", spec); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("replace missing: %v", err)
	}
	bad := domaintest.DefinitionSpec()
	bad.VCT = ""
	if _, err := e.svc.ReplaceDefinition(ctx, e.def.ID, bad); !errors.As(err, new(*validation.Error)) {
		t.Fatalf("replace invalid: %v", err)
	}
	for _, p := range []exchange.PageRequest{{Limit: -1}, {Limit: 101}} {
		if _, err := e.svc.ListDefinitions(ctx, p); !errors.As(err, new(*validation.Error)) {
			t.Errorf("page %+v accepted", p)
		}
	}
	if _, err := e.svc.ListDefinitions(ctx, exchange.PageRequest{Cursor: "zz"}); !errors.As(err, new(*validation.Error)) {
		t.Errorf("bad cursor: %v", err)
	}
	if _, err := e.svc.ListExchanges(ctx, exchange.Filter{Status: "lost"}, exchange.PageRequest{}); !errors.As(err, new(*validation.Error)) {
		t.Errorf("bad status filter: %v", err)
	}
	if err := e.svc.DeleteDefinition(ctx, e.def.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetDefinition(ctx, e.def.ID); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := e.svc.RegisterIndividual(ctx, "ind", "http://evil.example"); !errors.As(err, new(*validation.Error)) {
		t.Fatalf("http endpoint accepted: %v", err)
	}
	if _, err := e.svc.RegisterIndividual(ctx, "ind", ""); !errors.As(err, new(*validation.Error)) {
		t.Fatalf("empty endpoint accepted: %v", err)
	}
	first, err := e.svc.RegisterIndividual(ctx, "ind", "https://w.example/a")
	if err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(time.Minute)
	second, err := e.svc.RegisterIndividual(ctx, "ind", "https://w.example/b")
	if err != nil || second.CreatedAt != first.CreatedAt || second.UpdatedAt == first.UpdatedAt {
		t.Fatalf("re-register: %+v %v", second, err)
	}
	if err := e.svc.DeleteIndividual(ctx, "ind"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetIndividual(ctx, "ind"); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("get deleted individual: %v", err)
	}
}

func TestNewServiceRequiresIssuerStoreAndDeliverer(t *testing.T) {
	if _, err := admin.New(admin.Config{}, deps(memstore.New(), &fakeDoer{})); err == nil {
		t.Error("empty issuer URL accepted")
	}
	if _, err := admin.New(admin.Config{IssuerURL: "https://i"}, deps(nil, &fakeDoer{})); err == nil {
		t.Error("nil store accepted")
	}
	if _, err := admin.New(admin.Config{IssuerURL: "https://i"}, admin.Deps{Store: memstore.New()}); err == nil {
		t.Error("nil deliverer accepted")
	}
}

func BenchmarkIssueCredential(b *testing.B) {
	store := memstore.New()
	svc, _ := admin.New(admin.Config{IssuerURL: "https://issuer.example"}, deps(store, &fakeDoer{status: 200}))
	ctx := context.Background()
	def, _ := svc.DefineCredential(ctx, domaintest.DefinitionSpec())
	req := admin.IssueRequest{IssuanceMode: "InTime", UserPin: "1234", CredentialDefinitionID: def.ID,
		Credential: &admin.CredentialInput{CredentialSubject: subject()}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.IssueCredential(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDynamicCredentialRequestIntake: presentationDefinitionId must name a presentation definition and excludes
// userPin; transactionData goes only with it and must be a typed object; a valid request keeps a copy of the
// definition and offers no pre-authorized code.
func TestDynamicCredentialRequestIntake(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pd, err := e.svc.DefinePresentation(ctx, presentationdef.Spec{Label: "LPID", DCQLQuery: json.RawMessage(
		`{"credentials": [{"id": "lpid", "format": "dc+sd-jwt", "meta": {"vct_values": ["lpid"]}}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	base := func() admin.IssueRequest {
		return admin.IssueRequest{IssuanceMode: "Deferred", CredentialDefinitionID: e.def.ID, PresentationDefinitionID: pd.ID}
	}
	for name, c := range map[string]struct {
		change func(r *admin.IssueRequest)
		field  string
	}{
		"unknown presentation definition": {func(r *admin.IssueRequest) { r.PresentationDefinitionID = "nope" }, "presentationDefinitionId"},
		"with a PIN":                      {func(r *admin.IssueRequest) { r.UserPin = "4821" }, "userPin"},
		"transaction data not an object":  {func(r *admin.IssueRequest) { r.TransactionData = json.RawMessage(`[1]`) }, "transactionData"},
		"transaction data without type":   {func(r *admin.IssueRequest) { r.TransactionData = json.RawMessage(`{"amount": 1}`) }, "transactionData.type"},
		"transaction data with ids": {func(r *admin.IssueRequest) {
			r.TransactionData = json.RawMessage(`{"type": "fee", "credential_ids": ["x"]}`)
		}, "transactionData.credential_ids"},
		"transaction data alone": {func(r *admin.IssueRequest) {
			r.PresentationDefinitionID, r.TransactionData = "", json.RawMessage(`{"type": "fee"}`)
		}, "transactionData"},
	} {
		req := base()
		c.change(&req)
		_, err := e.svc.IssueCredential(ctx, req)
		var v *validation.Error
		if !errors.As(err, &v) || v.Field != c.field {
			t.Errorf("%s: err = %v, want a validation error at %s", name, err, c.field)
		}
	}
	req := base()
	req.TransactionData = json.RawMessage(`{"type": "fee", "amount": "25.00 EUR"}`)
	rec, err := e.svc.IssueCredential(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if rec.PresentationDefinitionID != pd.ID || rec.Presentation == nil || rec.Presentation.Definition.Label != "LPID" ||
		rec.CodeHash != "" || rec.IsPreAuthorised || rec.IssuerStateHash == "" || len(rec.Pointers) != 0 {
		t.Fatalf("record %+v", rec)
	}
	if err := e.svc.DeletePresentationDefinition(ctx, pd.ID); err != nil {
		t.Fatal(err)
	}
	stored, err := e.store.GetExchange(ctx, rec.CredentialExchangeID)
	if err != nil || stored.Presentation == nil || string(stored.Presentation.Definition.DCQLQuery) != string(rec.Presentation.Definition.DCQLQuery) {
		t.Fatalf("the exchange lost its copy of the deleted definition: %+v %v", stored.Presentation, err)
	}
}
