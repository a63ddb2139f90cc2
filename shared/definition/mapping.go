package definition

import (
	"sort"
)

// DisclosureMapping renders the record's disclosureMapping (claim names, never values) for a credential of the
// spec's format. SD-JWT VC and JWT VC: with a subject, the view of the SD-JWT policy the credential is issued
// with (sdjwt.Policy.DisclosureMapping; a JWT VC has no selectively disclosable claim, so every entry is false);
// without one (a deferred exchange still pending), the tree of the definition's claim paths, array elements
// folded into their array's entry. mdoc: each namespace (not itself disclosed or withheld) with each of its data
// elements, every one disclosed on its own (true).
func (s *Spec) DisclosureMapping(subject map[string]any) map[string]any {
	if s.CredentialFormat == FormatMdoc {
		return mdocMapping(s.Claims, subject)
	}
	return disclosureMapping(s.Claims, subject)
}

// mdocMapping is the disclosure mapping of an mdoc: namespaces and their elements, from the subject and the
// definition's claims.
func mdocMapping(claims []Claim, subject map[string]any) map[string]any {
	root := map[string]any{}
	add := func(ns, id string) {
		node := mappingNode(root, ns)
		node["limitedDisclosure"] = false
		if id != "" {
			mappingNode(node, id)["limitedDisclosure"] = true
		}
	}
	for ns, v := range subject {
		elements, _ := v.(map[string]any)
		add(ns, "")
		for id := range elements {
			add(ns, id)
		}
	}
	for _, c := range claims {
		if len(c.Path) == 2 {
			ns, _ := c.Path[0].(string)
			id, _ := c.Path[1].(string)
			add(ns, id)
		}
	}
	return root
}

// disclosureMapping is the mapping of a credential whose claims follow the SD-JWT claim path rules.
func disclosureMapping(claims []Claim, subject map[string]any) map[string]any {
	if subject != nil {
		if pol, err := Policy(claims); err == nil {
			return pol.DisclosureMapping(subject)
		}
	}
	return pathMapping(claims, subject)
}

// pathMapping is the mapping from claim paths (and subject names when the policy does not compile).
func pathMapping(claims []Claim, subject map[string]any) map[string]any {
	root := map[string]any{}
	var walk func(dst map[string]any, prefix []any, obj map[string]any)
	walk = func(dst map[string]any, prefix []any, obj map[string]any) {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			path := append(append([]any(nil), prefix...), k)
			node := mappingNode(dst, k)
			node["limitedDisclosure"] = limited(claims, path)
			if child, ok := obj[k].(map[string]any); ok {
				walk(node, path, child)
			}
		}
	}
	walk(root, nil, subject)
	for _, c := range claims {
		dst := root
		var prefix []any
		for _, el := range c.Path {
			name, ok := el.(string)
			if !ok {
				break
			}
			prefix = append(prefix, name)
			node := mappingNode(dst, name)
			if _, set := node["limitedDisclosure"]; !set {
				node["limitedDisclosure"] = limited(claims, prefix)
			}
			dst = node
		}
	}
	return root
}

func mappingNode(dst map[string]any, name string) map[string]any {
	if n, ok := dst[name].(map[string]any); ok {
		return n
	}
	n := map[string]any{}
	dst[name] = n
	return n
}

// limited reports whether the definition makes the claim at path selectively disclosable, itself or (for an
// array) its elements: a claim path that is path followed only by null or index elements.
func limited(claims []Claim, path []any) bool {
	key := pathKey(path)
	for _, c := range claims {
		if !c.LimitDisclosure || len(c.Path) < len(path) || pathKey(c.Path[:len(path)]) != key {
			continue
		}
		elementsOnly := true
		for _, el := range c.Path[len(path):] {
			if _, named := el.(string); named {
				elementsOnly = false
			}
		}
		if elementsOnly {
			return true
		}
	}
	return false
}
