package e2e

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// haipIssuer is the issuer configured as a HAIP deployment would be: DPoP server nonces, and a wallet provider it
// trusts (the harness's own root and JWKS, written to files and named by WALLET_TRUST_ANCHORS).
type haipIssuer struct {
	*issuer
	provider *attesttest.Provider
}

func startHAIPIssuer(t *testing.T, configure func(*config.Config)) *haipIssuer {
	t.Helper()
	provider := attesttest.NewProvider(t, "E2E Wallet Provider")
	pemPath, jwksPath := provider.WriteTrustFiles(t, t.TempDir())
	is := startIssuerLogging(t, io.Discard, func(c *config.Config, _ aws.Config) {
		c.NonceKey = []byte("e2e c_nonce and dpop nonce key!!") // 32 bytes
		c.WalletTrustAnchors = []string{pemPath, jwksPath}
		if configure != nil {
			configure(c)
		}
	})
	return &haipIssuer{issuer: is, provider: provider}
}

// startHAIPExchange starts the HAIP issuer with a definition of haipPolicy, offers it once and redeems the code
// as a fresh attested DPoP wallet: where most modules start. It returns the access token.
func startHAIPExchange(t *testing.T) (h *haipIssuer, defID, exID string, w *haipWallet, access string) {
	t.Helper()
	h = startHAIPIssuer(t, nil)
	defID = h.definitionWith(haipPolicy)
	exID, code := h.offer(defID)
	w = h.newHAIPWallet("client")
	tok := w.token(code, "", nil)
	if tok.status != http.StatusOK {
		t.Fatalf("token: %d %s", tok.status, tok.raw)
	}
	return h, defID, exID, w, tok.str("access_token")
}

// definitionWith creates the test definition with extra members (the HAIP policy fields) and returns its id.
func (h *haipIssuer) definitionWith(extra map[string]any) string {
	h.t.Helper()
	body := map[string]any{"label": "HAIP PID", "credentialFormat": "dc+sd-jwt", "vct": "urn:eudi:pid:1",
		"expirationInDays": 365, "claims": []any{map[string]any{"path": []any{"given_name"}, "limitDisclosure": true}}}
	for k, v := range extra {
		body[k] = v
	}
	r := h.admin(http.MethodPost, "/credential-definition", body)
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		h.t.Fatalf("create definition: %d %s", r.status, r.raw)
	}
	def, _ := r.json["credentialDefinition"].(map[string]any)
	id, _ := def["credentialDefinitionId"].(string)
	return id
}

// offer issues an InTime offer of definition defID and returns the exchange id and the pre-authorized code.
func (h *haipIssuer) offer(defID string) (exchangeID, code string) {
	h.t.Helper()
	id, link := h.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	offer := h.do(http.MethodGet, offerURI(h.t, link), nil)
	grants, _ := offer.json["grants"].(map[string]any)
	pre, _ := grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	code, _ = pre["pre-authorized_code"].(string)
	if code == "" {
		h.t.Fatalf("offer %s", offer.raw)
	}
	return id, code
}

// haipWallet plays a HAIP wallet: a DPoP key (nil: no DPoP), a client instance key attested by a wallet provider
// (nil attest: no client attestation), and the DPoP nonce it last received.
type haipWallet struct {
	h        *haipIssuer
	dpop     *attesttest.Key
	instance *attesttest.Key
	clientID string
	// attest returns the attestation and PoP headers of one request ("" for none).
	attest func() (attestation, pop string)
	nonce  string
	// nonceRetries counts the use_dpop_nonce answers retried.
	nonceRetries int
}

// newHAIPWallet is a wallet with DPoP and a client attestation of the trusted provider (by x5c).
func (h *haipIssuer) newHAIPWallet(clientID string) *haipWallet {
	w := &haipWallet{h: h, dpop: attesttest.NewKey(h.t), instance: attesttest.NewKey(h.t), clientID: clientID}
	w.attest = w.attestedBy(h.provider, attesttest.ByX5C, nil, nil, nil)
	return w
}

// attestedBy signs client attestations with provider (changed by att) and PoPs (changed by pop) with popSigner
// (nil: the instance key).
func (w *haipWallet) attestedBy(provider *attesttest.Provider, with attesttest.SignWith,
	att func(*attesttest.ClientAttestation), pop func(*attesttest.PoP), popSigner *attesttest.Key) func() (string, string) {
	return func() (string, string) {
		a := attesttest.ClientAttestation{Sub: w.clientID, Instance: w.instance, With: with}
		if att != nil {
			att(&a)
		}
		p := attesttest.PoP{Audience: w.h.url}
		if pop != nil {
			pop(&p)
		}
		signer := w.instance
		if popSigner != nil {
			signer = popSigner
		}
		return provider.ClientAttestationJWT(w.h.t, a), attesttest.PoPJWT(w.h.t, signer, p)
	}
}

// send posts body to path as the wallet: the DPoP proof (with ath for a token) and the Authorization scheme of
// its token, the client attestation at the token and PAR endpoints; a use_dpop_nonce answer is retried once with the nonce
// it carries, as wallets do.
func (w *haipWallet) send(path, contentType string, body []byte, token string, extra ...string) *response {
	w.h.t.Helper()
	for attempt := 0; ; attempt++ {
		headers := append([]string{"Content-Type", contentType}, extra...)
		if w.dpop != nil {
			headers = append(headers, "DPoP", w.dpop.DPoPProof(w.h.t, attesttest.DPoP{Method: http.MethodPost,
				URL: w.h.url + path, AccessToken: token, Nonce: w.nonce}))
		}
		if token != "" {
			scheme := "Bearer"
			if w.dpop != nil {
				scheme = "DPoP"
			}
			headers = append(headers, "Authorization", scheme+" "+token)
		}
		if (path == "/token" || path == "/par") && w.attest != nil {
			att, pop := w.attest()
			if att != "" {
				headers = append(headers, "OAuth-Client-Attestation", att)
			}
			if pop != "" {
				headers = append(headers, "OAuth-Client-Attestation-PoP", pop)
			}
		}
		r := w.h.do(http.MethodPost, path, bytes.NewReader(body), headers...)
		if n := r.header.Get("DPoP-Nonce"); n != "" {
			w.nonce = n
		}
		retry := r.str("error") == "use_dpop_nonce" || strings.Contains(r.header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`)
		if retry && attempt == 0 {
			w.nonceRetries++
			continue
		}
		return r
	}
}

// token redeems code (with pin, and extra form parameters).
func (w *haipWallet) token(code, pin string, extra url.Values) *response {
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}}
	if pin != "" {
		form.Set("tx_code", pin)
	}
	for k, v := range extra {
		form[k] = v
	}
	return w.send("/token", "application/x-www-form-urlencoded", []byte(form.Encode()), "")
}

// json posts a JSON body to a resource endpoint with the access token.
func (w *haipWallet) json(path, token string, body any, extra ...string) *response {
	w.h.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		w.h.t.Fatal(err)
	}
	return w.send(path, "application/json", b, token, extra...)
}

// cNonce fetches a c_nonce from the nonce endpoint.
func (h *haipIssuer) cNonce() string {
	h.t.Helper()
	r := h.do(http.MethodPost, "/nonce", nil)
	if r.str("c_nonce") == "" {
		h.t.Fatalf("nonce %d %s", r.status, r.raw)
	}
	return r.str("c_nonce")
}

// keyProof is a jwt key proof by k over nonce, with extra header members (e.g. key_attestation).
func (h *haipIssuer) keyProof(k *attesttest.Key, nonce string, header map[string]any) string {
	hdr := map[string]any{"typ": "openid4vci-proof+jwt", "jwk": k.PublicMap()}
	for name, v := range header {
		if v == nil {
			delete(hdr, name)
		} else {
			hdr[name] = v
		}
	}
	return attesttest.Sign(h.t, k.Private, "ES256", hdr, map[string]any{"aud": h.url, "iat": time.Now().Unix(), "nonce": nonce})
}

// boundKeys verifies the credentials of a 1.0 credential response and returns the thumbprints of their cnf keys.
func (h *haipIssuer) boundKeys(r *response) []string {
	h.t.Helper()
	creds, _ := r.json["credentials"].([]any)
	if r.status != http.StatusOK || len(creds) == 0 {
		h.t.Fatalf("credential %d %s", r.status, r.raw)
	}
	jwks := jwksOf(h.t, h.issuer)
	var out []string
	for i, c := range creds {
		sd, _ := c.(map[string]any)["credential"].(string)
		v, err := sdjwt.Verify(sd, sdjwt.WithIssuerKeySet(jwks))
		if err != nil {
			h.t.Fatalf("credential %d: %v", i, err)
		}
		cnf, _ := json.Marshal(v.Claims["cnf"].(map[string]any)["jwk"])
		k, err := jwk.ParseKey(cnf)
		if err != nil {
			h.t.Fatal(err)
		}
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, base64.RawURLEncoding.EncodeToString(tp))
	}
	return out
}
