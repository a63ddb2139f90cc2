package oid4vci

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// TypeMetadataPath is where the issuer serves SD-JWT VC type metadata: a definition whose vct is
// <issuer URL>/vct/<name> is resolvable there (draft-ietf-oauth-sd-jwt-vc, "From a URL in the vct Claim").
const TypeMetadataPath = "/vct/"

// typeNamePattern is the <name> of a resolvable vct: one URL path segment of unreserved characters.
var typeNamePattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,200}$`)

// TypeName returns the <name> of vct when the issuer hosts its type metadata (vct = issuerURL + "/vct/" + name),
// and false otherwise (a type named by someone else, or not a URL).
func TypeName(issuerURL, vct string) (string, bool) {
	prefix := strings.TrimRight(issuerURL, "/") + TypeMetadataPath
	name, ok := strings.CutPrefix(vct, prefix)
	if !ok || !typeNamePattern.MatchString(name) || name == "." || name == ".." {
		return "", false
	}
	return name, true
}

// TypeMetadata is an SD-JWT VC type metadata document: vct, name, display and claims (draft-ietf-oauth-sd-jwt-vc
// section "Type Metadata Format").
type TypeMetadata struct {
	VCT     string              `json:"vct"`
	Name    string              `json:"name,omitempty"`
	Display []TypeDisplay       `json:"display,omitempty"`
	Claims  []TypeClaimMetadata `json:"claims,omitempty"`
}

// TypeDisplay is the type's display in one locale.
type TypeDisplay struct {
	Locale      string         `json:"locale"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Rendering   *TypeRendering `json:"rendering,omitempty"`
}

// TypeRendering holds the "simple" rendering method.
type TypeRendering struct {
	Simple *SimpleRendering `json:"simple"`
}

// SimpleRendering is the simple rendering method: logo and colours.
type SimpleRendering struct {
	Logo            *TypeLogo `json:"logo,omitempty"`
	BackgroundColor string    `json:"background_color,omitempty"`
	TextColor       string    `json:"text_color,omitempty"`
}

// TypeLogo is a logo of the simple rendering.
type TypeLogo struct {
	URI     string `json:"uri"`
	AltText string `json:"alt_text,omitempty"`
}

// TypeClaimMetadata describes one claim path: display labels, mandatory, and sd (always or never).
type TypeClaimMetadata struct {
	Path      ClaimPath          `json:"path"`
	Display   []TypeClaimDisplay `json:"display,omitempty"`
	Mandatory bool               `json:"mandatory,omitempty"`
	SD        string             `json:"sd,omitempty"`
}

// TypeClaimDisplay is a claim's label in one locale.
type TypeClaimDisplay struct {
	Locale string `json:"locale"`
	Label  string `json:"label"`
}

// UndeterminedLocale is the BCP 47 tag of a display the definition gave without a locale (type metadata
// requires one).
const UndeterminedLocale = "und"

// Encode is the document as served, byte for byte: what vct#integrity is computed over.
func (m *TypeMetadata) Encode() ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode type metadata: %w", err)
	}
	return b, nil
}

// Integrity is the SRI integrity metadata of a document (sha256-<base64>), the value of vct#integrity.
func Integrity(doc []byte) string {
	sum := sha256.Sum256(doc)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
