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

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// benchIssue measures sdjwt.IssueVC of the reference credential with a local P-256 key, and one raw ES256 JWS
// (jwx) over the same issuer-signed payload and header: the floor issuance is held to. Both in microseconds.
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
	key := signer.CryptoSigner(ctx)
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
			if _, err := jws.Sign(payload, jws.WithKey(jwa.ES256, key, jws.WithProtectedHeaders(hdr))); err != nil {
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

// signedParts returns the payload bytes and the protected header (typ, kid, alg) of a compact JWS.
func signedParts(compact string) ([]byte, jws.Headers, error) {
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("issued JWT is not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, nil, fmt.Errorf("issued JWT payload: %w", err)
	}
	rawHdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, nil, fmt.Errorf("issued JWT header: %w", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(rawHdr, &fields); err != nil {
		return nil, nil, fmt.Errorf("issued JWT header: %w", err)
	}
	hdr := jws.NewHeaders()
	for k, v := range fields {
		if k == jws.AlgorithmKey {
			continue
		}
		if err := hdr.Set(k, v); err != nil {
			return nil, nil, fmt.Errorf("header %s: %w", k, err)
		}
	}
	return payload, hdr, nil
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
