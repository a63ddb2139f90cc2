package oid4vci

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
)

// encryptionKey is a wallet's P-256 encryption key and its public JWK members.
func encryptionKey(t testing.TB) (*ecdsa.PrivateKey, map[string]any) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv, publicJWK(t, &priv.PublicKey)
}

// withMembers is a copy of m with the given members set (a nil value deletes the member).
func withMembers(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// requestWithEncryption is a 1.0 credential request carrying enc as credential_response_encryption.
func requestWithEncryption(t testing.TB, enc any) []byte {
	t.Helper()
	return mustJSON(t, map[string]any{"credential_configuration_id": "x", "proofs": map[string]any{"jwt": []string{"a.b.c"}},
		"credential_response_encryption": enc})
}

// Both shapes are accepted: draft 13-15 {jwk, alg, enc} and 1.0 {jwk (with alg), enc, zip?}.
func TestParseResponseEncryptionShapes(t *testing.T) {
	_, pub := encryptionKey(t)
	tests := []struct {
		name      string
		enc       map[string]any
		wantZip   string
		wantKid   string
		algBeside bool
	}{
		{"draft 13", map[string]any{"jwk": pub, "alg": "ECDH-ES", "enc": "A128GCM"}, "", "", true},
		{"draft 13 with jwk alg too", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES"), "alg": "ECDH-ES", "enc": "A256GCM"}, "", "", true},
		{"1.0", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES", "kid", "wallet-key-1", "use", "enc"), "enc": "A256GCM"}, "", "wallet-key-1", false},
		{"1.0 with zip", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES"), "enc": "A128GCM", "zip": "DEF"}, "DEF", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseCredentialRequest(requestWithEncryption(t, tc.enc), "application/json", 1)
			if err != nil {
				t.Fatal(err)
			}
			got := req.ResponseEncryption
			if got == nil || got.Alg != EncryptionAlgECDHES || got.Enc != tc.enc["enc"] || got.Zip != tc.wantZip ||
				got.KeyID != tc.wantKid || got.AlgBeside != tc.algBeside {
				t.Fatalf("got %+v", got)
			}
			rec := got.Record()
			if rec["alg"] != "ECDH-ES" || rec["enc"] != tc.enc["enc"] {
				t.Fatalf("record %v", rec)
			}
			key := rec["jwk"].(map[string]any)
			if key["kty"] != "EC" || key["crv"] != "P-256" || key["x"] != pub["x"] || key["y"] != pub["y"] {
				t.Fatalf("recorded jwk %v", key)
			}
			if _, ok := key["d"]; ok {
				t.Fatal("recorded jwk holds a private key")
			}
		})
	}
	req, err := ParseCredentialRequest(requestWithEncryption(t, nil), "application/json", 1)
	if err != nil || req.ResponseEncryption != nil {
		t.Fatalf("null credential_response_encryption: %+v, %v", req, err)
	}
}

// Every wrong parameter is invalid_encryption_parameters saying which one and why.
func TestParseResponseEncryptionRefuses(t *testing.T) {
	priv, pub := encryptionKey(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	offCurve := withMembers(pub, "alg", "ECDH-ES", "y", pub["x"])
	private := withMembers(privateJWK(t, testKey{signer: priv}), "alg", "ECDH-ES")
	ed := newEdKey(t)
	tests := []struct {
		name string
		enc  any
		want string
	}{
		{"not an object", "ECDH-ES", "must be a JSON object"},
		{"enc missing", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES")}, "enc is required"},
		{"enc unsupported", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES"), "enc": "A128CBC-HS256"}, "enc is not supported"},
		{"enc not a string", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES"), "enc": 1}, "enc is required"},
		{"zip unsupported", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES"), "enc": "A128GCM", "zip": "GZIP"}, "zip is not supported"},
		{"jwk missing", map[string]any{"alg": "ECDH-ES", "enc": "A128GCM"}, "jwk is required"},
		{"jwk not an object", map[string]any{"jwk": "key", "alg": "ECDH-ES", "enc": "A128GCM"}, "jwk must be a JSON object"},
		{"jwk empty", map[string]any{"jwk": map[string]any{}, "alg": "ECDH-ES", "enc": "A128GCM"}, "not a valid JWK"},
		{"jwk private", map[string]any{"jwk": private, "enc": "A128GCM"}, "private key material"},
		{"jwk P-384", map[string]any{"jwk": withMembers(publicJWK(t, &p384.PublicKey), "alg", "ECDH-ES"), "enc": "A128GCM"}, "EC key on P-256"},
		{"jwk Ed25519", map[string]any{"jwk": withMembers(ed.jwk, "alg", "ECDH-ES"), "enc": "A128GCM"}, "EC key on P-256"},
		{"jwk off the curve", map[string]any{"jwk": offCurve, "enc": "A128GCM"}, "P-256"},
		{"jwk for signatures", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES", "use", "sig"), "enc": "A128GCM"}, "use must be enc"},
		{"jwk kid too long", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES", "kid", strings.Repeat("k", 300)), "enc": "A128GCM"}, "kid must be a string"},
		{"alg missing everywhere", map[string]any{"jwk": pub, "enc": "A128GCM"}, "algorithm is missing"},
		{"alg unsupported beside", map[string]any{"jwk": pub, "alg": "ECDH-ES+A128KW", "enc": "A128GCM"}, "algorithm is not supported"},
		{"alg unsupported in jwk", map[string]any{"jwk": withMembers(pub, "alg", "RSA-OAEP-256"), "enc": "A128GCM"}, "algorithm is not supported"},
		{"alg empty beside", map[string]any{"jwk": pub, "alg": "", "enc": "A128GCM"}, "alg must be a non-empty string"},
		{"algs differ", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES+A256KW"), "alg": "ECDH-ES", "enc": "A128GCM"}, "differ"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCredentialRequest(requestWithEncryption(t, tc.enc), "application/json", 1)
			pe := protocolError(t, err, ErrInvalidEncryptionParameters)
			if !strings.Contains(pe.Description, tc.want) {
				t.Fatalf("description %q does not contain %q", pe.Description, tc.want)
			}
			if strings.Contains(pe.Description, pub["x"].(string)) {
				t.Fatalf("description repeats the key: %q", pe.Description)
			}
		})
	}
	// The deferred credential request reads the same object with the same checks.
	body := mustJSON(t, map[string]any{"transaction_id": "t", "credential_response_encryption": map[string]any{"jwk": pub, "enc": "A128GCM"}})
	_, err = ParseDeferredCredentialRequest(body, "application/json")
	protocolError(t, err, ErrInvalidEncryptionParameters)
	body = mustJSON(t, map[string]any{"transaction_id": "t", "credential_response_encryption": map[string]any{"jwk": pub, "alg": "ECDH-ES", "enc": "A128GCM"}})
	dreq, err := ParseDeferredCredentialRequest(body, "application/json")
	if err != nil || dreq.ResponseEncryption == nil || dreq.ResponseEncryption.Enc != EncA128GCM {
		t.Fatalf("deferred request: %+v, %v", dreq, err)
	}
}

// Encrypt makes a compact ECDH-ES JWE that the wallet's private key opens: enc and zip as asked, kid repeated.
func TestResponseEncryptionRoundTrip(t *testing.T) {
	priv, pub := encryptionKey(t)
	plain := []byte(`{"credentials":[{"credential":"eyJ...~"}],"notification_id":"n"}`)
	for _, tc := range []struct {
		name string
		enc  map[string]any
	}{
		{"A128GCM draft 13", map[string]any{"jwk": pub, "alg": "ECDH-ES", "enc": "A128GCM"}},
		{"A256GCM with kid", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES", "kid", "k1"), "enc": "A256GCM"}},
		{"A256GCM with zip", map[string]any{"jwk": withMembers(pub, "alg", "ECDH-ES"), "enc": "A256GCM", "zip": "DEF"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseCredentialRequest(requestWithEncryption(t, tc.enc), "application/json", 1)
			if err != nil {
				t.Fatal(err)
			}
			out, err := req.ResponseEncryption.Encrypt(plain)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(out), "."); n != 4 {
				t.Fatalf("not a compact JWE: %d dots", n)
			}
			msg, err := jwe.Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			h := msg.ProtectedHeaders()
			if h.Algorithm() != jwa.ECDH_ES || string(h.ContentEncryption()) != tc.enc["enc"] || h.EphemeralPublicKey() == nil {
				t.Fatalf("header alg %s enc %s epk %v", h.Algorithm(), h.ContentEncryption(), h.EphemeralPublicKey())
			}
			wantKid, _ := tc.enc["jwk"].(map[string]any)["kid"].(string)
			if h.KeyID() != wantKid {
				t.Fatalf("kid %q, want %q", h.KeyID(), wantKid)
			}
			wantZip := jwa.NoCompress
			if tc.enc["zip"] == "DEF" {
				wantZip = jwa.Deflate
			}
			if h.Compression() != wantZip {
				t.Fatalf("zip %q, want %q", h.Compression(), wantZip)
			}
			got, err := jwe.Decrypt(out, jwe.WithKey(jwa.ECDH_ES, priv))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(plain) {
				t.Fatalf("decrypted %s", got)
			}
			var other *ecdsa.PrivateKey
			if other, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
				t.Fatal(err)
			}
			if _, err := jwe.Decrypt(out, jwe.WithKey(jwa.ECDH_ES, other)); err == nil {
				t.Fatal("another key decrypted the response")
			}
		})
	}
}

// The metadata announces exactly what the parser accepts.
func TestResponseEncryptionMetadata(t *testing.T) {
	b, err := json.Marshal(NewResponseEncryptionMetadata(true))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"alg_values_supported":["ECDH-ES"],"enc_values_supported":["A128GCM","A256GCM"],"zip_values_supported":["DEF"],"encryption_required":true}`
	if string(b) != want {
		t.Fatalf("metadata %s\nwant     %s", b, want)
	}
}
