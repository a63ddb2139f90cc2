package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/jwtvc"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/mdoc"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// benchIssue measures sdjwt.IssueVC of the reference credential with a local P-256 key, and one ES256 JWS over the
// same issuer-signed payload and header through the same path (keys.SignJWS: jws.Sign with the key as a
// crypto.Signer): the floor issuance is held to. Both in microseconds.
func benchIssue() (issueUS, signUS float64, err error) {
	signer, err := keys.NewLocal()
	if err != nil {
		return 0, 0, fmt.Errorf("bench issue: %w", err)
	}
	vc, err := sdjwt.ReferenceCredential()
	if err != nil {
		return 0, 0, fmt.Errorf("bench issue: %w", err)
	}
	ctx := context.Background()
	iss, err := sdjwt.IssueVC(ctx, signer, vc)
	if err != nil {
		return 0, 0, fmt.Errorf("bench issue: %w", err)
	}
	payload, hdr, err := signedParts(iss.JWT)
	if err != nil {
		return 0, 0, fmt.Errorf("bench issue: %w", err)
	}
	var benchErr error
	issue := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := sdjwt.IssueVC(ctx, signer, vc); err != nil {
				benchErr = err
				b.SkipNow()
			}
		}
	})
	sign := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := keys.SignJWS(ctx, signer, payload, hdr()); err != nil {
				benchErr = err
				b.SkipNow()
			}
		}
	})
	if benchErr != nil {
		return 0, 0, fmt.Errorf("bench issue: %w", benchErr)
	}
	if issue.N == 0 || sign.N == 0 {
		return 0, 0, errors.New("bench issue: no iterations ran")
	}
	return float64(issue.NsPerOp()) / 1000, float64(sign.NsPerOp()) / 1000, nil
}

// signedParts returns the payload bytes of a compact JWS and a maker of its protected header without alg and kid
// (SignJWS sets those): a fresh jws.Headers per signature, as SignJWS wants.
func signedParts(compact string) ([]byte, func() jws.Headers, error) {
	rawHdr, rawPayload, _, err := jws.SplitCompactString(compact)
	if err != nil {
		return nil, nil, fmt.Errorf("issued JWT: %w", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(string(rawPayload))
	if err != nil {
		return nil, nil, fmt.Errorf("issued JWT payload: %w", err)
	}
	hdrJSON, err := base64.RawURLEncoding.DecodeString(string(rawHdr))
	if err != nil {
		return nil, nil, fmt.Errorf("issued JWT header: %w", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(hdrJSON, &fields); err != nil {
		return nil, nil, fmt.Errorf("issued JWT header: %w", err)
	}
	for k := range fields {
		if k != jws.AlgorithmKey && k != jws.KeyIDKey && k != jws.TypeKey {
			return nil, nil, fmt.Errorf("issued JWT header has %s besides alg, kid and typ", k)
		}
	}
	typ, _ := fields[jws.TypeKey].(string)
	return payload, func() jws.Headers {
		h := jws.NewHeaders()
		_ = h.Set(jws.TypeKey, typ) // Set of a string typ cannot fail
		return h
	}, nil
}

// benchJS runs infra/interop/bench_issue.cjs: n issuances of the reference credential with @sd-jwt/sd-jwt-vc
// (after a warm-up), microseconds per issuance.
func benchJS(ctx context.Context, root, modules string, n int) (float64, error) {
	node, err := testkit.FindNode(modules, "@sd-jwt/sd-jwt-vc")
	if err != nil {
		return 0, fmt.Errorf("bench @sd-jwt/sd-jwt-vc: %w", err)
	}
	vc, err := sdjwt.ReferenceCredential()
	if err != nil {
		return 0, fmt.Errorf("bench @sd-jwt/sd-jwt-vc: %w", err)
	}
	in, err := json.Marshal(map[string]any{"payload": testkit.ReferencePayload(vc), "disclosureFrame": testkit.ReferenceFrame()})
	if err != nil {
		return 0, fmt.Errorf("bench @sd-jwt/sd-jwt-vc: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := testkit.NodeCommand(ctx, node, modules, filepath.Join(root, "infra", "interop", "bench_issue.cjs"), strconv.Itoa(n))
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("bench @sd-jwt/sd-jwt-vc: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var out struct {
		N             int     `json:"n"`
		USPerIssuance float64 `json:"usPerIssuance"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return 0, fmt.Errorf("bench @sd-jwt/sd-jwt-vc: output: %w", err)
	}
	if out.N != n || out.USPerIssuance <= 0 {
		return 0, fmt.Errorf("bench @sd-jwt/sd-jwt-vc: implausible output n=%d us=%g", out.N, out.USPerIssuance)
	}
	return out.USPerIssuance, nil
}

// referenceMdoc is the reference credential's claims as an mDL-shaped mdoc of 12 data elements in one namespace
// (the address split into its four resident_* elements, birth_date a full-date), bound to the reference holder
// key with the reference status entry.
func referenceMdoc() (mdoc.Document, error) {
	vc, err := sdjwt.ReferenceCredential()
	if err != nil {
		return mdoc.Document{}, err
	}
	c := vc.Claims
	addr, _ := c["address"].(map[string]any)
	return mdoc.Document{
		DocType: "org.iso.18013.5.1.mDL",
		NameSpaces: map[string]map[string]any{"org.iso.18013.5.1": {
			"given_name": c["given_name"], "family_name": c["family_name"],
			"birth_date": mdoc.FullDate(c["birthdate"].(string)), "email": c["email"], "phone_number": c["phone_number"],
			"resident_address": addr["street_address"], "resident_city": addr["locality"],
			"resident_postal_code": addr["postal_code"], "resident_country": addr["country"],
			"nationality": c["nationalities"], "age_over_18": c["is_over_18"], "issuing_country": c["issuing_country"],
		}},
		DeviceKey: vc.HolderKey, Signed: vc.IssuedAt, ValidUntil: vc.Expiry,
		Status: &mdoc.StatusReference{Index: vc.Status.Index, URI: vc.Status.URI},
	}, nil
}

// referenceJWTVC is the reference credential's claims as a jwt_vc_json credential.
func referenceJWTVC() (jwtvc.Credential, error) {
	vc, err := sdjwt.ReferenceCredential()
	if err != nil {
		return jwtvc.Credential{}, err
	}
	return jwtvc.Credential{Issuer: vc.Issuer, Types: []string{jwtvc.TypeVerifiableCredential, "IdentityCredential"},
		IssuedAt: vc.IssuedAt, Expiry: vc.Expiry, HolderKey: vc.HolderKey, Subject: vc.Claims,
		Status: &jwtvc.StatusReference{Index: vc.Status.Index, URI: vc.Status.URI}}, nil
}

// benchFormats measures issuing the reference credential as an mdoc (mdoc.Issuer.Issue: salts, CBOR, digests,
// COSE_Sign1 through the key's crypto.Signer; the document signer certificate made once beforehand) and as a
// JWT VC (jwtvc.Issue through keys.SignJWS), with a local P-256 key, in microseconds.
func benchFormats() (mdocUS, jwtvcUS float64, err error) {
	signer, err := keys.NewLocal()
	if err != nil {
		return 0, 0, fmt.Errorf("bench formats: %w", err)
	}
	ctx := context.Background()
	is, err := mdoc.NewSelfSignedIssuer(signer, "issuer.example.com").Issuer(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("bench formats: %w", err)
	}
	doc, err := referenceMdoc()
	if err != nil {
		return 0, 0, fmt.Errorf("bench formats: %w", err)
	}
	cred, err := referenceJWTVC()
	if err != nil {
		return 0, 0, fmt.Errorf("bench formats: %w", err)
	}
	var benchErr error
	m := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := is.Issue(ctx, doc); err != nil {
				benchErr = err
				b.SkipNow()
			}
		}
	})
	j := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := jwtvc.Issue(ctx, signer, cred); err != nil {
				benchErr = err
				b.SkipNow()
			}
		}
	})
	if benchErr != nil {
		return 0, 0, fmt.Errorf("bench formats: %w", benchErr)
	}
	if m.N == 0 || j.N == 0 {
		return 0, 0, errors.New("bench formats: no iterations ran")
	}
	return float64(m.NsPerOp()) / 1000, float64(j.NsPerOp()) / 1000, nil
}
