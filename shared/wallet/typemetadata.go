package wallet

import (
	"context"
	"fmt"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// TypeMetadataOf is the SD-JWT VC type metadata document of a definition: its vct, its label as name, its
// displays (the simple rendering with logo and colours; a display without locale gets "und"), and one claim entry
// per claim path with its labels, mandatory and sd (always for limitDisclosure, never otherwise: what the issuer
// does). The same definition always gives the same bytes (oid4vci.TypeMetadata.Encode).
func TypeMetadataOf(def *definition.Definition) *oid4vci.TypeMetadata {
	m := &oid4vci.TypeMetadata{VCT: def.VCT, Name: def.Label}
	for _, d := range def.Display {
		td := oid4vci.TypeDisplay{Locale: localeOrUnd(d.Locale), Name: d.Name, Description: d.Description}
		if d.Logo != nil || d.BackgroundColor != "" || d.TextColor != "" {
			simple := &oid4vci.SimpleRendering{BackgroundColor: d.BackgroundColor, TextColor: d.TextColor}
			if d.Logo != nil {
				simple.Logo = &oid4vci.TypeLogo{URI: d.Logo.URI, AltText: d.Logo.AltText}
			}
			td.Rendering = &oid4vci.TypeRendering{Simple: simple}
		}
		m.Display = append(m.Display, td)
	}
	for _, c := range def.Claims {
		path, err := oid4vci.NormalizeClaimPath(c.Path)
		if err != nil {
			continue // Normalize accepted it when the definition was stored
		}
		tc := oid4vci.TypeClaimMetadata{Path: path, Mandatory: c.Mandatory, SD: "never"}
		if c.LimitDisclosure {
			tc.SD = "always"
		}
		for _, d := range c.Display {
			tc.Display = append(tc.Display, oid4vci.TypeClaimDisplay{Locale: localeOrUnd(d.Locale), Label: d.Name})
		}
		m.Claims = append(m.Claims, tc)
	}
	return m
}

func localeOrUnd(locale string) string {
	if locale == "" {
		return oid4vci.UndeterminedLocale
	}
	return locale
}

// typeIntegrity is the vct#integrity of SD-JWT VCs of def: the SRI digest of the type metadata document served at
// its vct when they are issued (TypeMetadataDocuments: the newest stored definition naming it), when the issuer
// hosts that vct (<issuer URL>/vct/<name>) and a definition names it; "" otherwise (nothing is served there). Not
// the digest of the exchange's definition snapshot: an offer made before its definition changed, an older definition
// naming the same vct, or an exchange without a definition whose type is a hosted vct would carry the digest of a
// document nobody serves, and verifiers that check it refuse the type metadata. One pass over the definitions per
// credential request, only for a hosted vct.
func (s *Service) typeIntegrity(ctx context.Context, def *definition.Definition) (string, error) {
	name, ok := oid4vci.TypeName(s.cfg.IssuerURL, def.VCT)
	if !ok || !definition.IsSDJWT(def.CredentialFormat) {
		return "", nil
	}
	docs, err := s.TypeMetadataDocuments(ctx)
	if err != nil {
		return "", err
	}
	doc, ok := docs[name]
	if !ok {
		return "", nil
	}
	return oid4vci.Integrity(doc), nil
}

// TypeMetadataDocuments are the type metadata documents the issuer hosts, by <name> (served at <issuer URL>/vct/
// <name>): for each vct of that form, the document of the newest SD-JWT VC definition naming it, byte for byte
// what vct#integrity of its credentials covers. One pass over the definitions.
func (s *Service) TypeMetadataDocuments(ctx context.Context) (map[string][]byte, error) {
	docs := map[string][]byte{}
	err := s.eachDefinition(ctx, func(d *definition.Definition) error {
		name, ok := oid4vci.TypeName(s.cfg.IssuerURL, d.VCT)
		if _, seen := docs[name]; !ok || seen || !definition.IsSDJWT(d.CredentialFormat) {
			return nil // newest first: the first definition of a vct wins
		}
		doc, err := TypeMetadataOf(d).Encode()
		docs[name] = doc
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("type metadata: %w", err)
	}
	return docs, nil
}
