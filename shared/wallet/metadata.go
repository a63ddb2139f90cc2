package wallet

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/keys"

	"github.com/sdjwt-issuer/issuer/shared/clientattest"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// maxMetadataDefinitionPages bounds how many pages of definitions the metadata reads (100 per page).
const maxMetadataDefinitionPages = 100

// IssuerMetadata builds /.well-known/openid-credential-issuer: one configuration (and its draft-13 vc+sd-jwt
// twin) per stored definition, read page by page, and per unexpired dynamic configuration; the endpoints under
// the issuer URL and batch_credential_issuance.batch_size. A definition the metadata builder refuses is left
// out (and logged by id) rather than taking the whole document down.
func (s *Service) IssuerMetadata(ctx context.Context) (*oid4vci.CredentialIssuerMetadata, error) {
	var inputs []oid4vci.ConfigInput
	seen := map[string]bool{}
	err := s.eachDefinition(ctx, func(d *definition.Definition) error {
		in := definitionInput(d)
		if !seen[in.ID] {
			seen[in.ID] = true
			inputs = append(inputs, in)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("issuer metadata: %w", err)
	}
	dyn, err := s.store.ListDynamicConfigurations(ctx)
	if err != nil {
		return nil, fmt.Errorf("issuer metadata: list dynamic configurations: %w", err)
	}
	sort.Slice(dyn, func(i, j int) bool { return dyn[i].ConfigurationID < dyn[j].ConfigurationID })
	for _, d := range dyn {
		if seen[d.ConfigurationID] {
			continue
		}
		seen[d.ConfigurationID] = true
		inputs = append(inputs, dynamicInput(d))
	}
	endpoints := oid4vci.DefaultEndpoints(s.cfg.IssuerURL)
	opts := []oid4vci.MetadataOption{oid4vci.WithBatchSize(s.cfg.BatchSize),
		oid4vci.WithResponseEncryption(s.cfg.ResponseEncryptionRequired)}
	md, err := oid4vci.BuildMetadata(s.cfg.IssuerURL, endpoints, inputs, opts...)
	if err == nil {
		return md, nil
	}
	usable := inputs[:0:0]
	for _, in := range inputs {
		if _, err := oid4vci.BuildMetadata(s.cfg.IssuerURL, endpoints, []oid4vci.ConfigInput{in}, opts...); err != nil {
			s.rt.Log().WarnContext(ctx, "credential configuration left out of the issuer metadata",
				"credential_configuration_id", in.ID, "error", err.Error())
			continue
		}
		usable = append(usable, in)
	}
	md, err = oid4vci.BuildMetadata(s.cfg.IssuerURL, endpoints, usable, opts...)
	if err != nil {
		return nil, fmt.Errorf("issuer metadata: %w", err)
	}
	return md, nil
}

// eachDefinition calls fn with every stored definition, newest first, page by page (at most
// maxMetadataDefinitionPages pages).
func (s *Service) eachDefinition(ctx context.Context, fn func(*definition.Definition) error) error {
	cursor := ""
	for pages := 0; pages < maxMetadataDefinitionPages; pages++ {
		page, err := s.store.ListDefinitions(ctx, exchange.PageRequest{Limit: exchange.MaxPageLimit, Cursor: cursor})
		if err != nil {
			return fmt.Errorf("list definitions: %w", err)
		}
		for i := range page.Items {
			if err := fn(&page.Items[i]); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
	return nil
}

// AuthorizationServerMetadata builds /.well-known/oauth-authorization-server (the issuer is its own
// authorization server: pre-authorized code grant, anonymous access where the definition allows it, DPoP, and
// attest_jwt_client_auth when wallet providers are trusted).
func (s *Service) AuthorizationServerMetadata() (*oid4vci.AuthorizationServerMetadata, error) {
	opts := []oid4vci.ASOption{oid4vci.WithDPoP(s.DPoPAlgs())}
	if s.ClientAttestationSupported() {
		opts = append(opts, oid4vci.WithClientAttestation(clientattest.DefaultAttestationAlgs(), jwtverify.DefaultAlgs()))
	}
	md, err := oid4vci.BuildAuthorizationServerMetadata(s.cfg.IssuerURL, oid4vci.DefaultEndpoints(s.cfg.IssuerURL), opts...)
	if err != nil {
		return nil, fmt.Errorf("authorization server metadata: %w", err)
	}
	return md, nil
}

// JWTVCIssuerMetadata builds /.well-known/jwt-vc-issuer: the issuer and the signing key's public JWK, whose kid
// is the kid of every credential's header.
func (s *Service) JWTVCIssuerMetadata() (*oid4vci.JWTVCIssuerMetadata, error) {
	md, err := oid4vci.BuildJWTVCIssuerMetadata(s.cfg.IssuerURL, s.signer.PublicJWK())
	if err != nil {
		return nil, fmt.Errorf("jwt-vc-issuer metadata: %w", err)
	}
	return md, nil
}

// definitionInput maps a stored definition to the metadata builder's input.
func definitionInput(d *definition.Definition) oid4vci.ConfigInput {
	in := oid4vci.ConfigInput{ID: d.ConfigurationID(), Format: d.CredentialFormat, VCT: d.VCT, DocType: d.DocType,
		Types: d.Type, EncryptionRequired: d.EncryptionRequired}
	if definition.IsSDJWT(d.CredentialFormat) {
		in.Format = oid4vci.FormatSDJWTVC // the configuration and its vc+sd-jwt twin, whichever the definition named
	}
	in.WalletInitiated = d.WalletInitiated
	if k := d.KeyAttestationsRequired; k != nil {
		in.KeyAttestationsRequired = &oid4vci.KeyAttestationsRequired{KeyStorage: k.KeyStorage,
			UserAuthentication: k.UserAuthentication}
	}
	for _, disp := range d.Display {
		cd := oid4vci.CredentialDisplay{Name: disp.Name, Locale: disp.Locale, Description: disp.Description,
			BackgroundColor: disp.BackgroundColor, TextColor: disp.TextColor}
		if disp.Logo != nil {
			cd.Logo = &oid4vci.Image{URI: disp.Logo.URI, AltText: disp.Logo.AltText}
		}
		in.Display = append(in.Display, cd)
	}
	if len(in.Display) == 0 && d.Label != "" {
		in.Display = []oid4vci.CredentialDisplay{{Name: d.Label}}
	}
	for _, c := range d.Claims {
		path, err := oid4vci.NormalizeClaimPath(c.Path)
		if err != nil {
			continue // Normalize accepted it when the definition was stored; a broken path is left out
		}
		cd := oid4vci.ClaimDescription{Path: path, Mandatory: c.Mandatory}
		for _, disp := range c.Display {
			cd.Display = append(cd.Display, oid4vci.ClaimDisplay{Name: disp.Name, Locale: disp.Locale})
		}
		in.Claims = append(in.Claims, cd)
	}
	return in
}

// dynamicInput maps a dynamic configuration (issued from credential.type) to the metadata builder's input: its id
// and vct only. The anonymous metadata names claims only from definitions: the claim names of exchanges issued
// without one are the organisation's data (a name can say as much as a value), so they are never published, not
// even those a configuration stored by an earlier release still carries (docs/security.md).
func dynamicInput(d definition.DynamicConfiguration) oid4vci.ConfigInput {
	return oid4vci.ConfigInput{ID: d.ConfigurationID, VCT: d.VCT, Display: []oid4vci.CredentialDisplay{{Name: d.VCT}}}
}

// SignedMetadataTTL is how long signed issuer metadata is valid (exp): a wallet holding an old copy stops
// trusting it after that; the document is re-signed at every rebuild (every 30 s per warm container).
const SignedMetadataTTL = 24 * time.Hour

// SignIssuerMetadata signs md through keys.SignJWS (typ openidvci-issuer-metadata+jwt, kid, and x5c when the key
// has a certificate chain): one signature. The JWT is what 1.0 serves for Accept: application/jwt and what
// drafts 13 to 15 read from signed_metadata.
func (s *Service) SignIssuerMetadata(ctx context.Context, md *oid4vci.CredentialIssuerMetadata) (string, error) {
	claims, err := oid4vci.SignedMetadataClaims(md, s.rt.Now(), SignedMetadataTTL)
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, oid4vci.SignedMetadataType); err != nil {
		return "", fmt.Errorf("signed metadata: %w", err)
	}
	out, err := keys.SignJWS(ctx, s.signer, claims, hdr)
	if err != nil {
		return "", fmt.Errorf("signed metadata: %w", err)
	}
	return string(out), nil
}
