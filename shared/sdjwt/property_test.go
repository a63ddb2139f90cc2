package sdjwt

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// treeGen generates random claim trees and random policies over them from a seed.
type treeGen struct {
	r     *rand.Rand
	rules []ClaimRule
}

var genNames = []string{"a", "b", "given_name", "x y", "ünï", "addr", "n", "list", "k\"q", "z"}

func (g *treeGen) value(depth int, path ClaimPath) any {
	kind := g.r.IntN(8)
	if depth >= 3 && kind >= 5 {
		kind = g.r.IntN(5)
	}
	switch kind {
	case 0:
		return fmt.Sprintf("v%d\u00e9\n", g.r.IntN(1000))
	case 1:
		return float64(g.r.IntN(1 << 40))
	case 2:
		return g.r.Float64() * 1e6
	case 3:
		return g.r.IntN(2) == 0
	case 4:
		return nil
	case 5, 6:
		return g.object(depth+1, path)
	default:
		n := g.r.IntN(4)
		arr := make([]any, n)
		for i := range arr {
			var el PathElement
			if g.r.IntN(2) == 0 {
				el = Index(i)
			} else {
				el = AllElements()
			}
			p := append(append(ClaimPath{}, path...), el)
			arr[i] = g.value(depth+1, p)
			g.maybeRule(p)
		}
		return arr
	}
}

func (g *treeGen) object(depth int, path ClaimPath) map[string]any {
	n := 1 + g.r.IntN(4)
	m := make(map[string]any, n)
	for range n {
		name := genNames[g.r.IntN(len(genNames))]
		p := append(append(ClaimPath{}, path...), Name(name))
		m[name] = g.value(depth, p)
		g.maybeRule(p)
	}
	return m
}

func (g *treeGen) maybeRule(p ClaimPath) {
	if g.r.IntN(10) < 4 {
		g.rules = append(g.rules, ClaimRule{Path: p, LimitDisclosure: g.r.IntN(5) > 0})
	}
}

// isSubTree reports whether got is orig with some disclosable parts removed: object members
// are a subset, array elements a subsequence.
func isSubTree(t *testing.T, got, orig any) bool {
	switch o := orig.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range g {
			ov, ok := o[k]
			if !ok || !isSubTree(t, v, ov) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok {
			return false
		}
		j := 0
		for _, el := range g {
			for j < len(o) && !isSubTree(t, el, o[j]) {
				j++
			}
			if j == len(o) {
				return false
			}
			j++
		}
		return true
	default:
		return canonical(t, got) == canonical(t, orig)
	}
}

func TestPropertyIssueVerifyRoundTrip(t *testing.T) {
	signer, pub := newLocalSigner(t)
	holder, holderPub := newHolder(t)
	now := time.Unix(1700000000, 0)
	exercised, disclosures, conflicts, refused := 0, 0, 0, 0
	for seed := range uint64(300) {
		g := &treeGen{r: rand.New(rand.NewPCG(seed, 0x5d))}
		claims := g.object(0, nil)
		policy, err := NewPolicy(g.rules)
		if err != nil {
			// Random rules can contradict each other (object vs array at one path).
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("seed %d: NewPolicy: %v, want ErrInvalidPolicy", seed, err)
			}
			conflicts++
			continue
		}
		vc := VC{Issuer: "https://i.example", Type: "T", IssuedAt: now, HolderKey: holderPub, Claims: claims, Policy: policy}
		iss, err := IssueVC(context.Background(), signer, vc)
		// A rule that walks into a value of the wrong kind (members of a scalar, elements of an object) is an
		// issuance error by design; every other tree and policy must issue.
		if fits := policyFits(claims, g.rules); fits != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidClaims)) {
			t.Fatalf("seed %d: policy fits the claims = %v, but IssueVC: %v", seed, fits, err)
		}
		if err != nil {
			refused++
			continue
		}
		exercised++
		disclosures += len(iss.Disclosures)
		v, err := Verify(iss.SDJWT, WithIssuerKey(pub), clockAt(now))
		if err != nil {
			t.Fatalf("seed %d: verify: %v", seed, err)
		}
		for _, k := range []string{"iss", "vct", "iat", "cnf"} {
			delete(v.Claims, k)
		}
		if got, want := canonical(t, v.Claims), canonical(t, claims); got != want {
			t.Fatalf("seed %d: claims\n%s\nwant\n%s", seed, got, want)
		}
		keep := g.r.Uint64()
		pres, err := Present(iss.SDJWT, func(d Disclosure) bool { keep = keep>>1 | keep<<63; return keep&1 == 1 },
			&KeyBindingInput{Key: holder, Audience: "aud", Nonce: "nonce", IssuedAt: now})
		if err != nil {
			t.Fatalf("seed %d: present: %v", seed, err)
		}
		pv, err := Verify(pres, WithIssuerKey(pub), clockAt(now), WithKeyBinding("aud", "nonce"))
		if err != nil {
			t.Fatalf("seed %d: verify presentation: %v", seed, err)
		}
		for _, k := range []string{"iss", "vct", "iat", "cnf"} {
			delete(pv.Claims, k)
		}
		if !isSubTree(t, pv.Claims, claims) {
			t.Fatalf("seed %d: presented claims are not a sub-tree of the issued ones", seed)
		}
	}
	// Guard the generator: most seeds must reach issuance, with disclosures.
	if exercised < 200 || disclosures < 300 {
		t.Fatalf("generator too weak: %d trees issued, %d disclosures", exercised, disclosures)
	}
	t.Logf("%d trees issued, %d disclosures; %d conflicting policies, %d misfitting claim trees refused",
		exercised, disclosures, conflicts, refused)
}

// policyFits is the test's own statement of when IssueVC accepts a claim tree: every rule's path, walked from
// the top, meets an object at each name and an array at each index or null (every element), until the path ends
// or the claim tree has no such member or element.
func policyFits(claims map[string]any, rules []ClaimRule) bool {
	for _, r := range rules {
		if !pathFits(claims, r.Path) {
			return false
		}
	}
	return true
}

func pathFits(v any, path ClaimPath) bool {
	if len(path) == 0 {
		return true
	}
	switch e := path[0]; e.Kind {
	case PathName:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		child, ok := m[e.Name]
		return !ok || pathFits(child, path[1:])
	case PathIndex:
		a, ok := v.([]any)
		if !ok {
			return false
		}
		return e.Index >= len(a) || pathFits(a[e.Index], path[1:])
	case PathAll:
		a, ok := v.([]any)
		if !ok {
			return false
		}
		for _, el := range a {
			if !pathFits(el, path[1:]) {
				return false
			}
		}
		return true
	}
	return false
}
