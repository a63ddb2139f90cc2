package interop

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// walletFlowOutput is what oid4vci_schema.cjs reports.
type walletFlowOutput struct {
	DraftVersion     string            `json:"draftVersion"`
	ConfigurationIDs []string          `json:"configurationIds"`
	TxCode           *oid4vci.TxCode   `json:"txCode"`
	TokenType        string            `json:"tokenType"`
	Credentials      []string          `json:"credentials"`
	HolderJWK        map[string]string `json:"holderJwk"`
	Notified         bool              `json:"notified"`
	DeferredUsed     bool              `json:"deferredUsed"`
	Errors           []struct {
		Step  string `json:"step"`
		Error string `json:"error"`
	} `json:"errors"`
}

// protocolIssuer is a minimal issuer built only from shared/oid4vci and shared/sdjwt: every wallet-facing body the
// wallet library parses comes from the package builders. It keeps one exchange in memory.
type protocolIssuer struct {
	t        *testing.T
	url      string
	signer   *localSigner
	code     string
	pin      string
	deferred bool

	mu        sync.Mutex
	nonces    map[string]bool
	token     string
	pending   []string // credentials held back for the deferred endpoint
	notified  []string
	dialect   oid4vci.Dialect
	shape     oid4vci.ProofShape
	requested []string
}

const testVCT = "https://credentials.example.com/identity_credential"

func (p *protocolIssuer) routes() http.Handler {
	mux := http.NewServeMux()
	eps := oid4vci.DefaultEndpoints(p.url)
	mux.HandleFunc("GET /.well-known/openid-credential-issuer", func(w http.ResponseWriter, r *http.Request) {
		md, err := oid4vci.BuildMetadata(p.url, eps, []oid4vci.ConfigInput{{
			ID:      "pid",
			VCT:     testVCT,
			Display: []oid4vci.CredentialDisplay{{Name: "Identity", Locale: "en"}},
			Claims: []oid4vci.ClaimDescription{
				{Path: oid4vci.ClaimPath{"given_name"}, Display: []oid4vci.ClaimDisplay{{Name: "Given name", Locale: "en"}}},
				{Path: oid4vci.ClaimPath{"address", "locality"}},
				{Path: oid4vci.ClaimPath{"nationalities", nil}},
			},
		}}, oid4vci.WithIssuerDisplay([]oid4vci.IssuerDisplay{{Name: "Test issuer", Locale: "en"}}))
		p.answer(w, http.StatusOK, md, err)
	})
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		md, err := oid4vci.BuildAuthorizationServerMetadata(p.url, eps)
		p.answer(w, http.StatusOK, md, err)
	})
	mux.HandleFunc("GET /credential-offer/1", func(w http.ResponseWriter, r *http.Request) {
		offer, err := oid4vci.NewPreAuthorizedOffer(p.url, oid4vci.OfferedConfigurationIDs("pid", false), p.code,
			oid4vci.TxCodeFromPIN(p.pin, "The PIN from the letter"))
		p.answer(w, http.StatusOK, offer, err)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		req, err := oid4vci.ParseTokenRequest(string(p.body(r)), r.Header.Get("Content-Type"))
		if err != nil {
			p.oauthError(w, err, oid4vci.DialectV1)
			return
		}
		if err := req.CheckTxCode(p.pin != ""); err != nil {
			p.oauthError(w, err, req.Dialect)
			return
		}
		if req.PreAuthorizedCode != p.code || req.TxCode != p.pin {
			p.oauthError(w, oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the pre-authorized code or transaction code is wrong"), req.Dialect)
			return
		}
		p.mu.Lock()
		p.token = "access-" + p.code
		p.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		p.answer(w, http.StatusOK, oid4vci.NewTokenResponse(p.token, 300, nil), nil)
	})
	mux.HandleFunc("POST /nonce", func(w http.ResponseWriter, r *http.Request) {
		n := "nonce-" + time.Now().Format("150405.000000000")
		p.mu.Lock()
		p.nonces[n] = true
		p.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		p.answer(w, http.StatusOK, oid4vci.NonceResponse{CNonce: n}, nil)
	})
	mux.HandleFunc("POST /credential", p.credential)
	mux.HandleFunc("POST /deferred-credential", func(w http.ResponseWriter, r *http.Request) {
		if !p.authorized(w, r) {
			return
		}
		req, err := oid4vci.ParseDeferredCredentialRequest(p.body(r), r.Header.Get("Content-Type"))
		if err != nil {
			p.oauthError(w, err, p.dialect)
			return
		}
		p.mu.Lock()
		creds := p.pending
		p.pending = nil
		p.mu.Unlock()
		if req.TransactionID != "tx-1" || len(creds) == 0 {
			p.oauthError(w, oid4vci.Errorf(oid4vci.ErrInvalidTransactionID, "unknown transaction"), p.dialect)
			return
		}
		status, body, err := oid4vci.BuildDeferredCredentialResponse(p.dialect, p.shape, oid4vci.Issuance{Credentials: creds, Format: oid4vci.FormatSDJWTVC})
		p.answer(w, status, body, err)
	})
	mux.HandleFunc("POST /notification", func(w http.ResponseWriter, r *http.Request) {
		if !p.authorized(w, r) {
			return
		}
		req, err := oid4vci.ParseNotificationRequest(p.body(r), r.Header.Get("Content-Type"))
		if err != nil {
			p.oauthError(w, err, oid4vci.DialectV1)
			return
		}
		p.mu.Lock()
		p.notified = append(p.notified, req.Event)
		p.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func (p *protocolIssuer) credential(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(w, r) {
		return
	}
	req, err := oid4vci.ParseCredentialRequest(p.body(r), r.Header.Get("Content-Type"), 1)
	if err != nil {
		p.oauthError(w, err, oid4vci.DialectV1)
		return
	}
	proofs, err := oid4vci.ValidateProofs(req.ProofJWTs, oid4vci.ProofExpectations{
		Audience:     p.url,
		Now:          time.Now(),
		RequireNonce: true,
		NonceCheck: func(n string) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			if !p.nonces[n] {
				return oid4vci.ErrNonceRejected
			}
			return nil
		},
	})
	if err != nil {
		p.oauthError(w, err, req.Dialect)
		return
	}
	id := req.CredentialConfigurationID
	if id == "" {
		id = req.CredentialIdentifier
	}
	def, format := oid4vci.SplitConfigurationID(id)
	if def != "pid" {
		p.oauthError(w, oid4vci.Errorf(oid4vci.ErrUnknownCredentialConfiguration, "unknown credential configuration"), req.Dialect)
		return
	}
	var creds []string
	for _, proof := range proofs {
		holder, err := jwk.FromRaw(mustRaw(p.t, proof.Key))
		if err != nil {
			p.t.Errorf("holder key: %v", err)
			return
		}
		vc, err := sdjwt.ReferenceCredential()
		if err != nil {
			p.t.Errorf("reference credential: %v", err)
			return
		}
		vc.Issuer, vc.Type, vc.HolderKey = p.url, testVCT, holder
		vc.IssuedAt = time.Now().Truncate(time.Second)
		vc.Expiry = vc.IssuedAt.Add(24 * time.Hour)
		f := sdjwt.FormatDCSDJWT
		if format == oid4vci.FormatLegacySDJWTVC {
			f = sdjwt.FormatVCSDJWT
		}
		iss, err := sdjwt.IssueVC(context.Background(), p.signer, vc, sdjwt.WithFormat(f))
		if err != nil {
			p.t.Errorf("issue: %v", err)
			return
		}
		creds = append(creds, iss.SDJWT)
	}
	p.mu.Lock()
	p.dialect, p.shape = req.Dialect, req.ProofShape
	p.requested = append(p.requested, id)
	iss := oid4vci.Issuance{Credentials: creds, NotificationID: "notif-1", Format: format}
	if p.deferred {
		p.pending = creds
		iss = oid4vci.Issuance{TransactionID: "tx-1", Interval: 1, Format: format}
	}
	p.mu.Unlock()
	status, body, err := oid4vci.BuildCredentialResponse(req.Dialect, req.ProofShape, iss)
	p.answer(w, status, body, err)
}

func mustRaw(t *testing.T, k jwk.Key) any {
	var raw any
	if err := k.Raw(&raw); err != nil {
		t.Errorf("raw key: %v", err)
	}
	return raw
}

func (p *protocolIssuer) body(r *http.Request) []byte {
	b, err := io.ReadAll(io.LimitReader(r.Body, oid4vci.MaxCredentialRequestBytes+1))
	if err != nil {
		p.t.Errorf("read body: %v", err)
	}
	return b
}

func (p *protocolIssuer) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, err := oid4vci.BearerToken(r.Header.Get("Authorization"))
	p.mu.Lock()
	ok := err == nil && tok == p.token && tok != ""
	p.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		p.oauthError(w, oid4vci.Errorf(oid4vci.ErrInvalidToken, "send the access token"), oid4vci.DialectV1)
	}
	return ok
}

func (p *protocolIssuer) oauthError(w http.ResponseWriter, err error, d oid4vci.Dialect) {
	pe, ok := err.(*oid4vci.Error)
	if !ok {
		p.t.Errorf("internal error: %v", err)
		pe = oid4vci.Errorf(oid4vci.ErrServerError, "internal error")
	}
	w.Header().Set("Cache-Control", "no-store")
	p.answer(w, pe.HTTPStatus(), pe.Body(d, nil), nil)
}

func (p *protocolIssuer) answer(w http.ResponseWriter, status int, body any, err error) {
	if err != nil {
		p.t.Errorf("build response: %v", err)
		status, body = http.StatusInternalServerError, map[string]string{"error": oid4vci.ErrServerError}
	}
	b, merr := json.Marshal(body)
	if merr != nil {
		p.t.Errorf("marshal response: %v", merr)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// TestWalletLibraryFlow runs the pre-authorized flow of the oid4vc-ts wallet library (@openid4vc/openid4vci 0.4.6)
// against protocol answers built by shared/oid4vci: a wallet written by someone else must parse every body and end
// up with a credential that verifies, bound to its own key.
func TestWalletLibraryFlow(t *testing.T) {
	tests := []struct {
		name     string
		pin      string
		deferred bool
		wantMode string
	}{
		{name: "no transaction code", pin: ""},
		{name: "numeric transaction code", pin: "493536", wantMode: oid4vci.InputModeNumeric},
		{name: "text transaction code", pin: "x7-Q", wantMode: oid4vci.InputModeText},
		{name: "deferred issuance", pin: "", deferred: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			signer, pub := newSigner(t)
			iss := &protocolIssuer{t: t, signer: signer, code: "pre-auth-code-1", pin: tc.pin, deferred: tc.deferred, nonces: map[string]bool{}}
			srv := httptest.NewServer(nil)
			defer srv.Close()
			iss.url = srv.URL
			srv.Config.Handler = iss.routes()
			offerURI, err := oid4vci.OfferURI("", srv.URL+"/credential-offer/1")
			if err != nil {
				t.Fatal(err)
			}
			var out walletFlowOutput
			runScript(t, "oid4vci_schema.cjs", map[string]any{"offerUri": offerURI, "txCode": tc.pin}, &out)

			if out.DraftVersion != "V1" {
				t.Errorf("the library read the metadata as %q, want the 1.0 shape", out.DraftVersion)
			}
			if !reflect.DeepEqual(out.ConfigurationIDs, []string{"pid"}) {
				t.Errorf("offered configuration ids = %v", out.ConfigurationIDs)
			}
			if (out.TxCode != nil) != (tc.pin != "") || (out.TxCode != nil && (out.TxCode.InputMode != tc.wantMode || out.TxCode.Length != len(tc.pin))) {
				t.Errorf("tx_code as the wallet read it = %+v", out.TxCode)
			}
			if out.TokenType != oid4vci.TokenTypeBearer {
				t.Errorf("token_type = %q", out.TokenType)
			}
			wantErrors := map[string]string{"credential-bad-nonce": oid4vci.ErrInvalidNonce}
			if tc.pin != "" {
				wantErrors["token-wrong-tx-code"] = oid4vci.ErrInvalidGrant
			}
			if len(out.Errors) != len(wantErrors) {
				t.Errorf("negative probes = %+v, want %v", out.Errors, wantErrors)
			}
			for _, e := range out.Errors {
				if wantErrors[e.Step] != e.Error {
					t.Errorf("probe %s: the wallet saw %q, want %q", e.Step, e.Error, wantErrors[e.Step])
				}
			}
			if out.DeferredUsed != tc.deferred {
				t.Errorf("deferred used = %v, want %v", out.DeferredUsed, tc.deferred)
			}
			if out.Notified == tc.deferred { // deferred answers carry no notification_id (docs/wallet-compat.md)
				t.Errorf("notified = %v with deferred = %v", out.Notified, tc.deferred)
			}
			if len(out.Credentials) != 1 {
				t.Fatalf("the wallet received %d credentials, want 1", len(out.Credentials))
			}
			v, err := sdjwt.Verify(out.Credentials[0], sdjwt.WithIssuerKey(pub))
			if err != nil {
				t.Fatalf("the credential the wallet received does not verify: %v", err)
			}
			cnf, _ := v.Claims["cnf"].(map[string]any)
			got, _ := cnf["jwk"].(map[string]any)
			for _, m := range []string{"kty", "crv", "x", "y"} {
				if got[m] != out.HolderJWK[m] {
					t.Errorf("cnf.jwk.%s = %v, want the wallet's %v", m, got[m], out.HolderJWK[m])
				}
			}
			if len(got) != 4 {
				t.Errorf("cnf.jwk has members %v, want only kty, crv, x, y", got)
			}
		})
	}
}
