package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/openid4vp"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// withoutResponseEncryption takes the request encryption key away again, so that presentations come in the clear
// (response_mode direct_post).
func withoutResponseEncryption(cfg *config.Config, _ aws.Config) {
	cfg.Trust.RequestEncryptionKMSKeyID = ""
}

// portraitCredential is the anchored issuer's employee credential with a portrait claim of n bytes (base64 of
// random bytes, as a PID carries its facial image).
func (f *vpFixture) portraitCredential(n int) string {
	f.t.Helper()
	raw := make([]byte, n*3/4+3)
	if _, err := rand.Read(raw); err != nil {
		f.t.Fatal(err)
	}
	claims := map[string]any{"given_name": "Erika", "employer": "ACME",
		"portrait": base64.StdEncoding.EncodeToString(raw)[:n]}
	now := time.Now()
	o := f.anchored
	issued, err := sdjwt.IssueVC(context.Background(), o.signer, sdjwt.VC{Issuer: o.url, Type: o.url + "/vct/employee",
		IssuedAt: now.Add(-time.Hour), Expiry: now.Add(24 * time.Hour), HolderKey: f.holder.pub, Claims: claims,
		Policy: sdjwt.AllTopLevel(claims)})
	if err != nil {
		f.t.Fatal(err)
	}
	return issued.SDJWT
}

// vpTokenOfSize is a vp_token of the session (every disclosure, KB-JWT for its client_id and nonce) presenting
// the anchored issuer's credential with a portrait sized so that the vp_token is size bytes long (up to 256 bytes less).
func (s *vpSession) vpTokenOfSize(size int) string {
	s.f.t.Helper()
	token := func(portrait int) string {
		p, err := sdjwt.Present(s.f.portraitCredential(portrait), func(sdjwt.Disclosure) bool { return true },
			&sdjwt.KeyBindingInput{Key: s.f.holder.priv, Audience: s.clientID, Nonce: s.nonce, IssuedAt: time.Now()})
		if err != nil {
			s.f.t.Fatal(err)
		}
		b, _ := json.Marshal(map[string][]string{"employee": {p}})
		return string(b)
	}
	// The portrait's disclosure is base64url (4/3) of the portrait; the rest varies a little (decoy digests), so
	// the portrait is adjusted until the vp_token is at most size and within 256 bytes of it.
	portrait := 1000
	for range 20 {
		out := token(portrait)
		if d := size - len(out); d >= 0 && d <= 256 {
			return out
		} else {
			portrait += d * 3 / 4
			if d > 0 {
				portrait -= 32
			}
		}
	}
	s.f.t.Fatalf("no vp_token of about %d bytes", size)
	return ""
}

// TestLargestPresentationOverHTTP: the direct_post endpoint takes the largest vp_token the verifier accepts
// (openid4vp.MaxVPTokenBytes, a PID with its portrait is easily over 64 KiB), in the clear (direct_post, form
// encoded) and encrypted (direct_post.jwt, the JWE 4/3 of it and more), and the holder gets the credential; a
// vp_token just over it is a 400 naming the bound and a body over the endpoint's bound a 413 naming it, and
// neither ends the session: the holder's next answer goes through.
func TestLargestPresentationOverHTTP(t *testing.T) {
	for _, c := range []struct {
		name, mode string
		configure  []func(*config.Config, aws.Config)
	}{
		{"direct_post.jwt", "direct_post.jwt", nil},
		{"direct_post", "direct_post", []func(*config.Config, aws.Config){withoutResponseEncryption}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newVPFixture(t, false, c.configure...)

			exID, _, issuerState := f.offer(f.pdID, nil)
			s := f.begin(issuerState)
			if s.responseMode != c.mode {
				t.Fatalf("response_mode %q, want %q", s.responseMode, c.mode)
			}
			token := s.vpTokenOfSize(openid4vp.MaxVPTokenBytes)
			q := s.answer(s.post(s.state, token))
			if q.Get("code") == "" {
				t.Fatalf("a vp_token of %d bytes (the bound %d) was not taken: %v", len(token), openid4vp.MaxVPTokenBytes, q)
			}
			if cred := f.redeem(q.Get("code")); cred == "" {
				t.Fatal("no credential")
			}
			holder, _ := f.is.history(exID)["holder"].(map[string]any)
			claims, _ := holder["presentedClaims"].(map[string]any)
			list, _ := claims["employee"].([]any)
			if len(list) != 1 || len(fmt.Sprint(list[0].(map[string]any)["portrait"])) < openid4vp.MaxVPTokenBytes/2 {
				t.Fatal("the record lacks the presented portrait")
			}

			_, _, issuerState = f.offer(f.pdID, nil)
			s = f.begin(issuerState)
			over := s.vpTokenOfSize(openid4vp.MaxVPTokenBytes + 300)
			if len(over) <= openid4vp.MaxVPTokenBytes {
				t.Fatalf("vp_token of %d bytes is not over the bound", len(over))
			}
			r := s.post(s.state, over)
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" ||
				!strings.Contains(r.str("error_description"), fmt.Sprint(openid4vp.MaxVPTokenBytes)) {
				t.Fatalf("a vp_token over the bound: %d %s", r.status, r.raw)
			}
			huge := f.is.do(http.MethodPost, "/direct_post", strings.NewReader("state="+s.state+"&vp_token="+
				strings.Repeat("A", openid4vp.MaxPostBytes)), "Content-Type", "application/x-www-form-urlencoded")
			if huge.status != http.StatusRequestEntityTooLarge ||
				!strings.Contains(huge.str("error_description"), fmt.Sprintf("%d KiB", openid4vp.MaxPostBytes>>10)) {
				t.Fatalf("a body over the bound: %d %s", huge.status, huge.raw)
			}
			if q := s.answer(s.present(f.anchored.credential(t, f.holder, "ACME"), f.holder.priv, s.clientID, s.nonce, nil)); q.Get("code") == "" {
				t.Fatalf("the session did not survive the refused posts: %v", q)
			}
		})
	}
}
