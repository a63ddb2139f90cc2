package issuance_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/issuance"
)

type fakeEvents struct {
	mu     sync.Mutex
	events []issuance.Event
	err    error
}

func (f *fakeEvents) Publish(_ context.Context, e issuance.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
	return f.err
}

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

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

type env struct {
	svc    *issuance.Service
	store  *memStore
	events *fakeEvents
	doer   *fakeDoer
	now    time.Time
	def    issuance.CredentialDefinition
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{store: newMemStore(), events: &fakeEvents{}, doer: &fakeDoer{status: 200},
		now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	svc, err := issuance.NewService(issuance.Config{IssuerURL: "https://issuer.example/"}, e.store,
		issuance.WithClock(func() time.Time { return e.now }), issuance.WithEvents(e.events),
		issuance.WithHTTPDoer(e.doer), issuance.WithRandom(rand.Reader))
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.def, err = svc.DefineCredential(context.Background(), validSpec())
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
	e.store.individuals["known"] = issuance.Individual{IndividualID: "known", CredentialOfferEndpoint: "https://w.example/o"}
	base := func() issuance.IssueRequest {
		return issuance.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: e.def.ID,
			Credential: &issuance.CredentialInput{CredentialSubject: subject()}}
	}
	tests := []struct {
		name   string
		change func(r *issuance.IssueRequest)
		field  string
	}{
		{"valid", func(*issuance.IssueRequest) {}, ""},
		{"no mode", func(r *issuance.IssueRequest) { r.IssuanceMode = "" }, "issuanceMode"},
		{"bad mode", func(r *issuance.IssueRequest) { r.IssuanceMode = "intime" }, "issuanceMode"},
		{"presentation definition", func(r *issuance.IssueRequest) { r.PresentationDefinitionID = "pd" }, "presentationDefinitionId"},
		{"transaction data", func(r *issuance.IssueRequest) { r.TransactionData = json.RawMessage(`{}`) }, "transactionData"},
		{"transaction data null", func(r *issuance.IssueRequest) { r.TransactionData = json.RawMessage(`null`) }, ""},
		{"InTime without claims", func(r *issuance.IssueRequest) { r.Credential = nil }, "credential.credentialSubject"},
		{"neither definition nor credential", func(r *issuance.IssueRequest) {
			r.IssuanceMode, r.CredentialDefinitionID, r.Credential = "Deferred", "", nil
		}, "credentialDefinitionId"},
		{"no type without definition", func(r *issuance.IssueRequest) { r.CredentialDefinitionID = "" }, "credential.type"},
		{"type number", func(r *issuance.IssueRequest) { r.Credential.Type = 5.0 }, "credential.type"},
		{"type empty array", func(r *issuance.IssueRequest) { r.Credential.Type = []any{} }, "credential.type"},
		{"type element not string", func(r *issuance.IssueRequest) { r.Credential.Type = []any{"a", 1.0} }, "credential.type[1]"},
		{"type differs from definition", func(r *issuance.IssueRequest) { r.Credential.Type = "Other" }, "credential.type"},
		{"type equals definition", func(r *issuance.IssueRequest) {
			r.Credential.Type = []any{"VerifiableCredential", "PortableDocumentA1"}
		}, ""},
		{"dynamic bad vct", func(r *issuance.IssueRequest) { r.CredentialDefinitionID = ""; r.Credential.Type = "a b" }, "credential.type"},
		{"unknown definition", func(r *issuance.IssueRequest) { r.CredentialDefinitionID = "nope" }, "credentialDefinitionId"},
		{"definition id with #", func(r *issuance.IssueRequest) { r.CredentialDefinitionID = "a#b" }, "credentialDefinitionId"},
		{"empty subject", func(r *issuance.IssueRequest) { r.Credential.CredentialSubject = map[string]any{} }, "credential.credentialSubject"},
		{"reserved claim", func(r *issuance.IssueRequest) { r.Credential.CredentialSubject["iss"] = "x" }, "credential.credentialSubject.iss"},
		{"metadata without subject", func(r *issuance.IssueRequest) {
			r.Credential = &issuance.CredentialInput{CredentialMetadata: map[string]any{"a": 1.0}}
		}, "credential.credentialSubject"},
		{"credentials item without subject", func(r *issuance.IssueRequest) {
			r.Credentials = []issuance.CredentialInput{{CredentialSubject: subject()}, {}}
		}, "credentials[1].credentialSubject"},
		{"credentials item with type", func(r *issuance.IssueRequest) {
			r.Credentials = []issuance.CredentialInput{{CredentialSubject: subject(), Type: "X"}}
		}, "credentials[0].type"},
		{"credentials item reserved claim", func(r *issuance.IssueRequest) {
			r.Credentials = []issuance.CredentialInput{{CredentialSubject: map[string]any{"vct": "x"}}}
		}, "credentials[0].credentialSubject.vct"},
		{"too many credentials", func(r *issuance.IssueRequest) {
			for i := 0; i < 20; i++ {
				r.Credentials = append(r.Credentials, issuance.CredentialInput{CredentialSubject: subject()})
			}
		}, "credentials"},
		{"pin with space", func(r *issuance.IssueRequest) { r.UserPin = "12 34" }, "userPin"},
		{"pin too long", func(r *issuance.IssueRequest) { r.UserPin = "1234567890123" }, "userPin"},
		{"scheme", func(r *issuance.IssueRequest) { r.URLScheme = "https://" }, "urlScheme"},
		{"haip", func(r *issuance.IssueRequest) { r.URLScheme = "haip://" }, ""},
		{"endpoint http", func(r *issuance.IssueRequest) { r.CredentialOfferEndpoint = "http://w.example/o" }, "credentialOfferEndpoint"},
		{"endpoint and individual", func(r *issuance.IssueRequest) {
			r.CredentialOfferEndpoint, r.IndividualID = "https://w.example/o", "known"
		}, "individualId"},
		{"unknown individual", func(r *issuance.IssueRequest) { r.IndividualID = "stranger" }, "individualId"},
		{"known individual", func(r *issuance.IssueRequest) { r.IndividualID = "known" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base()
			tt.change(&req)
			before := len(e.store.exchanges)
			_, err := e.svc.IssueCredential(context.Background(), req)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("valid request refused: %v", err)
				}
				return
			}
			var v *issuance.ValidationError
			if !errors.As(err, &v) || v.Field != tt.field {
				t.Fatalf("err = %v, want a validation error on %s", err, tt.field)
			}
			if len(e.store.exchanges) != before {
				t.Fatal("a refused request stored an exchange")
			}
			if strings.Contains(v.Error(), "Erika") {
				t.Fatal("validation error quotes a claim value")
			}
		})
	}
	e.store.failGetDef = errors.New("dynamodb down")
	req := base()
	if _, err := e.svc.IssueCredential(context.Background(), req); err == nil || errors.As(err, new(*issuance.ValidationError)) {
		t.Fatalf("store failure surfaced as %v, want an internal error", err)
	}
}

func TestIssueCredentialInTimeWithDefinition(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec, err := e.svc.IssueCredential(ctx, issuance.IssueRequest{IssuanceMode: "InTime", UserPin: "4821",
		CredentialDefinitionID: e.def.ID,
		Credential:             &issuance.CredentialInput{CredentialSubject: subject(), CredentialMetadata: map[string]any{"ref": "A-1"}},
		Credentials:            []issuance.CredentialInput{{CredentialSubject: map[string]any{"given_name": "Max"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != issuance.StatusOfferSent || rec.CredentialStatus != issuance.CredentialReady || !rec.IsPreAuthorised ||
		rec.UserPin != "4821" || rec.CredentialDefinitionID != e.def.ID || rec.CredentialFormat != "dc+sd-jwt" ||
		!rec.SupportRevocation || rec.RevocationStatus != issuance.RevocationOperational || len(rec.Credentials) != 2 ||
		rec.Credential.CredentialMetadata["ref"] != "A-1" || rec.Credential.Type[0] != "PortableDocumentA1" ||
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
	offerID, _ := issuance.OfferIDFromDeepLink(rec.CredentialOffer)
	stored, err := e.store.GetExchange(ctx, rec.CredentialExchangeID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.UserPin != "" || !stored.Internal.TxCode.Verify("4821") || stored.Internal.TxCode.InputMode != "numeric" ||
		stored.Internal.TxCode.Length != 4 || stored.Internal.Definition.VCT != "PortableDocumentA1" ||
		stored.Internal.ConfigurationID != e.def.ID || stored.Internal.ExpiresAt != e.now.Add(30*24*time.Hour).Unix() {
		t.Fatalf("stored internal %+v", stored.Internal)
	}
	if id, ok := issuance.SecretExchangeID(offerID); !ok || id != rec.CredentialExchangeID ||
		!issuance.SecretMatches(offerID, stored.Internal.OfferIDHash) ||
		!issuance.SecretMatches(issuance.PreAuthorizedCode(offerID), stored.Internal.CodeHash) ||
		stored.Internal.OfferExpiresAt <= e.now.Unix() {
		t.Fatalf("offer id and code do not name the exchange, or their hashes or validity are not in the record")
	}
	codeKey := issuance.PointerKey(issuance.PointerCode, issuance.PreAuthorizedCode(offerID))
	if p, ok := e.store.pointers[codeKey]; !ok || p.ExchangeID != rec.CredentialExchangeID || len(e.store.pointers) != 1 {
		t.Fatalf("pointers %v, want only the code's guard", e.store.pointers)
	}
	raw := string(e.store.exchanges[rec.CredentialExchangeID])
	// The PIN is looked for as a JSON string value: the bare digits can occur by chance inside random ids, salts
	// and hashes.
	for _, secret := range []string{`"4821"`, issuance.PreAuthorizedCode(offerID)} {
		if strings.Contains(raw, secret) {
			t.Fatalf("stored record carries a secret in the clear")
		}
	}
	if len(e.events.events) != 1 || e.events.events[0].DetailType != "credential.offer_sent" ||
		e.events.events[0].Detail.Credential != nil || e.events.events[0].Detail.UserPin != "" {
		t.Fatalf("events %+v", e.events.events)
	}
	if err := e.svc.DeleteExchange(ctx, rec.CredentialExchangeID); err != nil {
		t.Fatal(err)
	}
	if len(e.store.pointers) != 0 {
		t.Fatalf("pointers left after delete: %v", e.store.pointers)
	}
}

func TestIssueCredentialDeferredAndDynamic(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec, err := e.svc.IssueCredential(ctx, issuance.IssueRequest{IssuanceMode: "Deferred", CredentialDefinitionID: e.def.ID,
		URLScheme: "haip://"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.CredentialStatus != issuance.CredentialPending || rec.Credential != nil || !strings.HasPrefix(rec.CredentialOffer, "haip://?") ||
		rec.UserPin != "" {
		t.Fatalf("deferred record %+v", rec)
	}
	dyn, err := e.svc.IssueCredential(ctx, issuance.IssueRequest{IssuanceMode: "InTime",
		Credential: &issuance.CredentialInput{Type: []any{"VerifiableCredential", "https://example.com/Badge"},
			CredentialSubject: map[string]any{"name": "Erika", "address": map[string]any{"city": "Berlin"}}},
		UserPin: "ab12"})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := e.store.GetExchange(ctx, dyn.CredentialExchangeID)
	if dyn.CredentialDefinitionID != "" || stored.Internal.ConfigurationID != "https://example.com/Badge" || !stored.Internal.Dynamic ||
		stored.Internal.Definition.VCT != "https://example.com/Badge" || len(stored.Internal.Definition.Claims) != 2 ||
		!stored.Internal.Definition.Claims[0].LimitDisclosure || stored.Internal.TxCode.InputMode != "text" {
		t.Fatalf("dynamic record %+v", stored.Internal)
	}
	m, _ := json.Marshal(dyn.DisclosureMapping)
	if string(m) != `{"address":{"city":{"limitedDisclosure":false},"limitedDisclosure":true},"name":{"limitedDisclosure":true}}` {
		t.Fatalf("dynamic mapping %s", m)
	}
	cfg := e.store.dynamic["https://example.com/Badge"]
	if cfg.VCT != "https://example.com/Badge" || strings.Join(cfg.Claims, ",") != "address,name" {
		t.Fatalf("dynamic configuration %+v", cfg)
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
		{"delivered", &fakeDoer{status: 204}, issuance.DeliveryDelivered, 204, ""},
		{"wallet error", &fakeDoer{status: 500}, issuance.DeliveryFailed, 500, "HTTP 500"},
		{"timeout", &fakeDoer{err: timeoutErr{}}, issuance.DeliveryFailed, 0, "timed out"},
		{"refused", &fakeDoer{err: errors.New("dial tcp: refused")}, issuance.DeliveryFailed, 0, "request failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			svc, _ := issuance.NewService(issuance.Config{IssuerURL: "https://issuer.example"}, e.store,
				issuance.WithClock(func() time.Time { return e.now }), issuance.WithHTTPDoer(tt.doer))
			rec, err := svc.IssueCredential(context.Background(), issuance.IssueRequest{IssuanceMode: "Deferred",
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
			if stored.OfferDelivery == nil || stored.OfferDelivery.Outcome != tt.outcome || stored.Internal.Version != 2 {
				t.Fatalf("stored delivery %+v v%d", stored.OfferDelivery, stored.Internal.Version)
			}
		})
	}
}

func TestDefinitionsAndIndividualsUseCases(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.now = e.now.Add(time.Hour)
	spec := validSpec()
	spec.Label = "Replaced"
	d, err := e.svc.ReplaceDefinition(ctx, e.def.ID, spec)
	if err != nil || d.Label != "Replaced" || d.CreatedAt != e.def.CreatedAt || d.UpdatedAt != e.now.Unix() || d.Version != 2 {
		t.Fatalf("replace: %+v %v", d, err)
	}
	if _, err := e.svc.ReplaceDefinition(ctx, "missing", spec); !errors.Is(err, issuance.ErrNotFound) {
		t.Fatalf("replace missing: %v", err)
	}
	bad := validSpec()
	bad.VCT = ""
	if _, err := e.svc.ReplaceDefinition(ctx, e.def.ID, bad); !errors.As(err, new(*issuance.ValidationError)) {
		t.Fatalf("replace invalid: %v", err)
	}
	for _, p := range []issuance.PageRequest{{Limit: -1}, {Limit: 101}} {
		if _, err := e.svc.ListDefinitions(ctx, p); !errors.As(err, new(*issuance.ValidationError)) {
			t.Errorf("page %+v accepted", p)
		}
	}
	if _, err := e.svc.ListDefinitions(ctx, issuance.PageRequest{Cursor: "zz"}); !errors.As(err, new(*issuance.ValidationError)) {
		t.Errorf("bad cursor: %v", err)
	}
	if _, err := e.svc.ListExchanges(ctx, issuance.ExchangeFilter{Status: "lost"}, issuance.PageRequest{}); !errors.As(err, new(*issuance.ValidationError)) {
		t.Errorf("bad status filter: %v", err)
	}
	if err := e.svc.DeleteDefinition(ctx, e.def.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetDefinition(ctx, e.def.ID); !errors.Is(err, issuance.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := e.svc.RegisterIndividual(ctx, "ind", "http://evil.example"); !errors.As(err, new(*issuance.ValidationError)) {
		t.Fatalf("http endpoint accepted: %v", err)
	}
	if _, err := e.svc.RegisterIndividual(ctx, "ind", ""); !errors.As(err, new(*issuance.ValidationError)) {
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
	if _, err := e.svc.GetIndividual(ctx, "ind"); !errors.Is(err, issuance.ErrNotFound) {
		t.Fatalf("get deleted individual: %v", err)
	}
}

func TestNewServiceRequiresIssuerAndStore(t *testing.T) {
	if _, err := issuance.NewService(issuance.Config{}, newMemStore()); err == nil {
		t.Error("empty issuer URL accepted")
	}
	if _, err := issuance.NewService(issuance.Config{IssuerURL: "https://i"}, nil); err == nil {
		t.Error("nil store accepted")
	}
}

func BenchmarkIssueCredential(b *testing.B) {
	store := newMemStore()
	svc, _ := issuance.NewService(issuance.Config{IssuerURL: "https://issuer.example"}, store)
	ctx := context.Background()
	def, _ := svc.DefineCredential(ctx, validSpec())
	req := issuance.IssueRequest{IssuanceMode: "InTime", UserPin: "1234", CredentialDefinitionID: def.ID,
		Credential: &issuance.CredentialInput{CredentialSubject: subject()}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.IssueCredential(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
