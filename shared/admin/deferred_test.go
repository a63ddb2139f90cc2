package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/internal/memstore"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// deferredExchange issues a Deferred exchange of e's definition without claims.
func deferredExchange(t *testing.T, e *env) exchange.Record {
	t.Helper()
	rec, err := e.svc.IssueCredential(context.Background(), admin.IssueRequest{IssuanceMode: "Deferred",
		CredentialDefinitionID: e.def.ID})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// setStatus moves a stored record to status step by step, one write per transition (what the wallet side does),
// without touching anything else.
func setStatus(t *testing.T, e *env, id string, to exchange.Status) {
	t.Helper()
	for _, st := range []exchange.Status{exchange.StatusOfferReceived, exchange.StatusCredentialIssued, to} {
		cur, err := e.store.GetExchange(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Status == to {
			return
		}
		if !exchange.CanTransition(cur.Status, st) {
			continue
		}
		next := cur.Clone()
		if err := next.Transition(st, e.now.Unix()); err != nil {
			t.Fatal(err)
		}
		if err := e.store.UpdateExchange(context.Background(), next, exchange.Expect{Version: cur.Version, Status: cur.Status}); err != nil {
			t.Fatal(err)
		}
	}
}

func completion(subjects ...map[string]any) admin.DeferredRequest {
	var r admin.DeferredRequest
	for i, s := range subjects {
		in := admin.CredentialInput{CredentialSubject: s, CredentialMetadata: map[string]any{"ref": fmt.Sprint(i)}}
		if i == 0 {
			r.Credential = &in
			continue
		}
		r.Credentials = append(r.Credentials, in)
	}
	return r
}

func denial(reason string) admin.DeferredRequest {
	return admin.DeferredRequest{IssuanceDenied: true, IssuanceDeniedReason: reason}
}

func TestCompleteDeferred(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := deferredExchange(t, e)
	before := len(e.events.DetailTypes())
	res, err := e.svc.ApplyDeferred(ctx, rec.CredentialExchangeID, completion(subject(), map[string]any{"given_name": "Max"}))
	if err != nil {
		t.Fatal(err)
	}
	got := res.Record
	if !res.Changed || got.CredentialStatus != exchange.CredentialReady || got.Status != exchange.StatusOfferSent ||
		len(got.Credentials) != 2 || got.Credentials[0].CredentialSubject["given_name"] != "Erika" ||
		got.Credentials[1].CredentialMetadata["ref"] != "1" || got.CredentialType[0] != "PortableDocumentA1" {
		t.Fatalf("completed record %+v", got)
	}
	m, _ := json.Marshal(got.DisclosureMapping)
	if !strings.Contains(string(m), `"given_name":{"limitedDisclosure":true}`) {
		t.Fatalf("disclosure mapping %s", m)
	}
	stored, _ := e.store.GetExchange(ctx, rec.CredentialExchangeID)
	if stored.CredentialStatus != exchange.CredentialReady || len(stored.Credentials) != 2 ||
		stored.Version != rec.Version+1 {
		t.Fatalf("stored %+v", stored)
	}
	types := e.events.DetailTypes()[before:]
	if len(types) != 1 || types[0] != admin.EventCredentialReady {
		t.Fatalf("events %v", types)
	}
	detail := e.events.All()[len(e.events.All())-1].Detail
	if len(detail.Credentials) != 0 || detail.CredentialStatus != exchange.CredentialReady {
		t.Fatalf("event detail carries claims or misses the status: %+v", detail)
	}
}

func TestDeferredIdempotent(t *testing.T) {
	tests := []struct {
		name         string
		first, again admin.DeferredRequest
		// between moves the record on between the two calls (the wallet collected the credentials).
		between exchange.Status
	}{
		{name: "same completion", first: completion(subject()), again: completion(subject())},
		{name: "same completion, numbers written differently",
			first: completion(map[string]any{"given_name": "Erika", "n": json.Number("1.50"), "m": json.Number("100")}),
			again: completion(map[string]any{"given_name": "Erika", "n": json.Number("1.5"), "m": json.Number("1e2")})},
		{name: "same completion after the wallet collected it", first: completion(subject()), again: completion(subject()),
			between: exchange.StatusCredentialAcked},
		{name: "same denial", first: denial("no employment record"), again: denial("no employment record")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			rec := deferredExchange(t, e)
			first, err := e.svc.ApplyDeferred(ctx, rec.CredentialExchangeID, tc.first)
			if err != nil || !first.Changed {
				t.Fatalf("first: %v changed=%v", err, first.Changed)
			}
			if tc.between != "" {
				setStatus(t, e, rec.CredentialExchangeID, tc.between)
			}
			stored, _ := e.store.GetExchange(ctx, rec.CredentialExchangeID)
			events := len(e.events.DetailTypes())
			again, err := e.svc.ApplyDeferred(ctx, rec.CredentialExchangeID, tc.again)
			if err != nil {
				t.Fatalf("again: %v", err)
			}
			after, _ := e.store.GetExchange(ctx, rec.CredentialExchangeID)
			if again.Changed || after.Version != stored.Version || len(e.events.DetailTypes()) != events {
				t.Fatalf("the second call changed something: changed=%v version %d -> %d, events %d -> %d",
					again.Changed, stored.Version, after.Version, events, len(e.events.DetailTypes()))
			}
			if again.Record.CredentialExchangeID != rec.CredentialExchangeID || again.Record.Status != stored.Status {
				t.Fatalf("the second call answered %+v", again.Record)
			}
		})
	}
}

func TestDeferredRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env, id string)
		req   admin.DeferredRequest
		want  string
	}{
		{name: "different completion after a completion", req: completion(map[string]any{"given_name": "Max"}),
			setup: func(t *testing.T, e *env, id string) { mustApply(t, e, id, completion(subject())) },
			want:  "already has different claims"},
		{name: "more credentials after a completion", req: completion(subject(), subject()),
			setup: func(t *testing.T, e *env, id string) { mustApply(t, e, id, completion(subject())) },
			want:  "already has different claims"},
		{name: "completion after a denial", req: completion(subject()),
			setup: func(t *testing.T, e *env, id string) { mustApply(t, e, id, denial("no")) },
			want:  "denied"},
		{name: "other denial after a denial", req: denial("another reason"),
			setup: func(t *testing.T, e *env, id string) { mustApply(t, e, id, denial("no")) },
			want:  "already denied with a different issuanceDeniedReason"},
		{name: "denial after a completion", req: denial("changed our mind"),
			setup: func(t *testing.T, e *env, id string) { mustApply(t, e, id, completion(subject())) },
			want:  "can no longer be denied"},
		{name: "different completion after issuance", req: completion(map[string]any{"given_name": "Max"}),
			setup: func(t *testing.T, e *env, id string) {
				mustApply(t, e, id, completion(subject()))
				setStatus(t, e, id, exchange.StatusCredentialIssued)
			},
			want: "already issued to the wallet (status credential_issued)"},
		{name: "denial after issuance", req: denial("too late"),
			setup: func(t *testing.T, e *env, id string) {
				mustApply(t, e, id, completion(subject()))
				setStatus(t, e, id, exchange.StatusCredentialAcked)
			},
			want: "revoke the credential instead"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			rec := deferredExchange(t, e)
			tc.setup(t, e, rec.CredentialExchangeID)
			stored, _ := e.store.GetExchange(ctx, rec.CredentialExchangeID)
			events := len(e.events.DetailTypes())
			_, err := e.svc.ApplyDeferred(ctx, rec.CredentialExchangeID, tc.req)
			var ref *admin.RefusalError
			if !errors.Is(err, admin.ErrCompletionRefused) || !errors.As(err, &ref) || !strings.Contains(ref.Reason, tc.want) {
				t.Fatalf("err = %v, want a refusal containing %q", err, tc.want)
			}
			for _, secret := range []string{"Max", "Erika", "another reason", "changed our mind", "too late"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("the error %q quotes the request", err)
				}
			}
			after, _ := e.store.GetExchange(ctx, rec.CredentialExchangeID)
			if after.Version != stored.Version || len(e.events.DetailTypes()) != events {
				t.Fatal("a refused request changed the record or published")
			}
		})
	}
}

func mustApply(t *testing.T, e *env, id string, req admin.DeferredRequest) {
	t.Helper()
	if _, err := e.svc.ApplyDeferred(context.Background(), id, req); err != nil {
		t.Fatal(err)
	}
}

func TestDeferredInTimeRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec, err := e.svc.IssueCredential(ctx, admin.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: e.def.ID,
		Credential: &admin.CredentialInput{CredentialSubject: subject()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []admin.DeferredRequest{completion(subject()), denial("no")} {
		if _, err := e.svc.ApplyDeferred(ctx, rec.CredentialExchangeID, req); !errors.Is(err, admin.ErrCompletionRefused) ||
			!strings.Contains(err.Error(), "InTime") {
			t.Errorf("InTime exchange: %v", err)
		}
	}
}

func TestDeferredNotFound(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	deleted := deferredExchange(t, e)
	if err := e.svc.DeleteExchange(ctx, deleted.CredentialExchangeID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"no-such-exchange", deleted.CredentialExchangeID} {
		for _, req := range []admin.DeferredRequest{completion(subject()), denial("no")} {
			if _, err := e.svc.ApplyDeferred(ctx, id, req); !errors.Is(err, exchange.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", id, err)
			}
		}
	}
}

func TestDenyDeferred(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := deferredExchange(t, e)
	setStatus(t, e, rec.CredentialExchangeID, exchange.StatusOfferReceived)
	res, err := e.svc.DenyDeferred(ctx, rec.CredentialExchangeID, "Employment record could not be confirmed")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Record.Status != exchange.StatusIssuanceDenied ||
		res.Record.IssuanceDeniedReason != "Employment record could not be confirmed" ||
		res.Record.CredentialStatus != exchange.CredentialPending {
		t.Fatalf("denied record %+v", res.Record)
	}
	types := e.events.DetailTypes()
	if types[len(types)-1] != "credential.issuance_denied" {
		t.Fatalf("events %v", types)
	}
}

func TestDeferredValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := deferredExchange(t, e)
	long := strings.Repeat("x", admin.MaxDeniedReasonLength+1)
	tests := []struct {
		name  string
		id    string
		req   admin.DeferredRequest
		field string
	}{
		{name: "empty body", req: admin.DeferredRequest{}, field: "credential.credentialSubject"},
		{name: "metadata without subject", req: admin.DeferredRequest{Credential: &admin.CredentialInput{
			CredentialMetadata: map[string]any{"a": "b"}}}, field: "credential.credentialSubject"},
		{name: "empty subject", req: completion(map[string]any{}), field: "credential.credentialSubject"},
		{name: "reserved claim", req: completion(map[string]any{"iss": "https://evil.example"}), field: "credential.credentialSubject.iss"},
		{name: "credentials entry without subject", req: admin.DeferredRequest{Credentials: []admin.CredentialInput{
			{CredentialSubject: subject()}, {}}}, field: "credentials[1].credentialSubject"},
		{name: "type on credentials entry", req: admin.DeferredRequest{Credentials: []admin.CredentialInput{
			{CredentialSubject: subject(), Type: "X"}}}, field: "credentials[0].type"},
		{name: "too many credentials", req: admin.DeferredRequest{Credentials: make([]admin.CredentialInput,
			admin.MaxCredentialsPerExchange+1)}, field: "credentials"},
		{name: "other type", req: admin.DeferredRequest{Credential: &admin.CredentialInput{Type: "OtherType",
			CredentialSubject: subject()}}, field: "credential.type"},
		{name: "claims and denial", req: admin.DeferredRequest{Credential: &admin.CredentialInput{
			CredentialSubject: subject()}, IssuanceDenied: true, IssuanceDeniedReason: "no"}, field: "issuanceDenied"},
		{name: "reason without denial", req: admin.DeferredRequest{IssuanceDeniedReason: "no"}, field: "issuanceDenied"},
		{name: "denial without reason", req: admin.DeferredRequest{IssuanceDenied: true}, field: "issuanceDeniedReason"},
		{name: "reason with control characters", req: denial("a\x00b"), field: "issuanceDeniedReason"},
		{name: "reason too long", req: denial(long), field: "issuanceDeniedReason"},
		{name: "bad id", id: "a/b", req: completion(subject()), field: "credentialExchangeId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.id
			if id == "" {
				id = rec.CredentialExchangeID
			}
			for i := range tc.req.Credentials {
				if tc.req.Credentials[i].CredentialSubject == nil && tc.field == "credentials" {
					tc.req.Credentials[i].CredentialSubject = subject()
				}
			}
			_, err := e.svc.ApplyDeferred(ctx, id, tc.req)
			var v *validation.Error
			if !errors.As(err, &v) || v.Field != tc.field {
				t.Fatalf("err = %v, want a validation error of %s", err, tc.field)
			}
			if strings.Contains(err.Error(), "evil.example") {
				t.Fatalf("the error quotes a claim value: %v", err)
			}
		})
	}
	stored, _ := e.store.GetExchange(ctx, rec.CredentialExchangeID)
	if stored.Version != rec.Version || stored.CredentialStatus != exchange.CredentialPending {
		t.Fatal("an invalid request changed the record")
	}
}

func TestCompleteDeferredDynamic(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec, err := e.svc.IssueCredential(ctx, admin.IssueRequest{IssuanceMode: "Deferred",
		Credential: &admin.CredentialInput{Type: []any{"VerifiableCredential", "https://example.com/Badge"}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.ApplyDeferred(ctx, rec.CredentialExchangeID, admin.DeferredRequest{Credential: &admin.CredentialInput{
		Type: "https://example.com/Badge", CredentialSubject: map[string]any{"name": "Erika", "level": "gold"}}})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := e.store.GetExchange(ctx, rec.CredentialExchangeID)
	if !res.Changed || len(stored.Definition.Claims) != 2 || !stored.Definition.Claims[0].LimitDisclosure {
		t.Fatalf("dynamic definition after completion %+v", stored.Definition)
	}
	cfgs, err := e.store.ListDynamicConfigurations(ctx)
	if err != nil || len(cfgs) != 1 || cfgs[0].ConfigurationID != "https://example.com/Badge" || len(cfgs[0].Claims) != 0 {
		t.Fatalf("dynamic configurations %+v, %v", cfgs, err)
	}
}

// racingStore runs race once, just before the first exchange write it is asked for: a concurrent change that
// makes that write lose.
type racingStore struct {
	*memstore.Store
	once sync.Once
	race func()
}

func (r *racingStore) UpdateExchange(ctx context.Context, rec exchange.Record, expect exchange.Expect, ops ...exchange.PointerOp) error {
	r.once.Do(r.race)
	return r.Store.UpdateExchange(ctx, rec, expect, ops...)
}

func TestDeferredLostWriteDecidesAgain(t *testing.T) {
	tests := []struct {
		name        string
		concurrent  admin.DeferredRequest
		req         admin.DeferredRequest
		wantChanged bool
		wantRefusal bool
		wantStatus  exchange.Status
	}{
		{name: "same completion won meanwhile", concurrent: completion(subject()), req: completion(subject()),
			wantStatus: exchange.StatusOfferReceived},
		{name: "other completion won meanwhile", concurrent: completion(map[string]any{"given_name": "Max"}),
			req: completion(subject()), wantRefusal: true},
		{name: "denial won meanwhile", concurrent: denial("no"), req: completion(subject()), wantRefusal: true},
		{name: "wallet moved the record meanwhile", req: completion(subject()), wantChanged: true,
			wantStatus: exchange.StatusOfferReceived},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			rec := deferredExchange(t, e)
			id := rec.CredentialExchangeID
			rs := &racingStore{Store: e.store}
			svc, err := admin.New(admin.Config{IssuerURL: "https://issuer.example"}, deps(rs, e.doer))
			if err != nil {
				t.Fatal(err)
			}
			rs.race = func() {
				setStatus(t, e, id, exchange.StatusOfferReceived) // the wallet redeemed the code meanwhile
				if tc.concurrent.Denial() || tc.concurrent.Credential != nil {
					mustApply(t, e, id, tc.concurrent)
				}
			}
			res, err := svc.ApplyDeferred(ctx, id, tc.req)
			if tc.wantRefusal {
				if !errors.Is(err, admin.ErrCompletionRefused) {
					t.Fatalf("err = %v, want a refusal", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := e.store.GetExchange(ctx, id)
			if res.Changed != tc.wantChanged || stored.Status != tc.wantStatus || stored.CredentialStatus != exchange.CredentialReady ||
				stored.Credentials[0].CredentialSubject["given_name"] != "Erika" {
				t.Fatalf("changed=%v stored %s/%s %v", res.Changed, stored.Status, stored.CredentialStatus, stored.Credentials)
			}
		})
	}
}

func TestDeferredConcurrentCompletions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := deferredExchange(t, e)
	const n = 16
	var wg sync.WaitGroup
	results := make([]admin.DeferredResult, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Half send the same claims, half each their own.
			s := subject()
			if i%2 == 1 {
				s = map[string]any{"given_name": fmt.Sprintf("person-%d", i)}
			}
			results[i], errs[i] = e.svc.ApplyDeferred(ctx, rec.CredentialExchangeID, completion(s))
		}(i)
	}
	wg.Wait()
	stored, _ := e.store.GetExchange(ctx, rec.CredentialExchangeID)
	winner, _ := json.Marshal(stored.Credentials[0].CredentialSubject)
	changed := 0
	for i := 0; i < n; i++ {
		if results[i].Changed {
			changed++
		}
		switch {
		case errs[i] == nil:
			got, _ := json.Marshal(results[i].Record.Credentials[0].CredentialSubject)
			if string(got) != string(winner) {
				t.Errorf("call %d succeeded with claims that are not the stored ones", i)
			}
		case !errors.Is(errs[i], admin.ErrCompletionRefused):
			t.Errorf("call %d: %v", i, errs[i])
		}
	}
	if changed != 1 || stored.Version != rec.Version+1 {
		t.Fatalf("%d calls changed the record, version %d -> %d; want exactly one", changed, rec.Version, stored.Version)
	}
}

// failingStore fails every exchange read with a transient error.
type failingStore struct{ *memstore.Store }

func (failingStore) GetExchange(context.Context, string) (exchange.Record, error) {
	return exchange.Record{}, errors.New("dynamodb: service unavailable")
}

func TestDeferredStoreFailureIsNotARefusal(t *testing.T) {
	e := newEnv(t)
	svc, err := admin.New(admin.Config{IssuerURL: "https://issuer.example"}, deps(failingStore{e.store}, e.doer))
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.ApplyDeferred(context.Background(), "some-id", completion(subject()))
	var v *validation.Error
	if err == nil || errors.Is(err, admin.ErrCompletionRefused) || errors.Is(err, exchange.ErrNotFound) || errors.As(err, &v) ||
		!strings.Contains(err.Error(), "service unavailable") {
		t.Fatalf("err = %v, want the store's error wrapped", err)
	}
}

func BenchmarkCompleteDeferred(b *testing.B) {
	ctx := context.Background()
	store := memstore.New()
	svc, err := admin.New(admin.Config{IssuerURL: "https://issuer.example"}, deps(store, &fakeDoer{status: 200}))
	if err != nil {
		b.Fatal(err)
	}
	def, err := svc.DefineCredential(ctx, domaintest.DefinitionSpec())
	if err != nil {
		b.Fatal(err)
	}
	req := completion(subject(), subject(), subject())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rec, err := svc.IssueCredential(ctx, admin.IssueRequest{IssuanceMode: "Deferred", CredentialDefinitionID: def.ID})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := svc.ApplyDeferred(ctx, rec.CredentialExchangeID, req); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.ApplyDeferred(ctx, rec.CredentialExchangeID, req); err != nil {
			b.Fatal(err)
		}
	}
}
