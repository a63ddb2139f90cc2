package oid4vci

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Protocol identifiers.
const (
	// FormatSDJWTVC is the SD-JWT VC credential format identifier of OpenID4VCI 1.0.
	FormatSDJWTVC = "dc+sd-jwt"
	// FormatLegacySDJWTVC is the SD-JWT VC format identifier of drafts 12 and 13 (and SD-JWT VC before 2025).
	FormatLegacySDJWTVC = "vc+sd-jwt"
	// FormatMsoMdoc is the ISO mdoc format identifier (1.0 appendix A.2): the credential is base64url CBOR
	// IssuerSigned.
	FormatMsoMdoc = "mso_mdoc"
	// FormatJWTVCJSON is the W3C VC signed as a JWT, not using JSON-LD (1.0 appendix A.1.1).
	FormatJWTVCJSON = "jwt_vc_json"
	// COSEAlgorithmES256 is ECDSA with SHA-256 as COSE numbers it, the mso_mdoc credential signing algorithm.
	COSEAlgorithmES256 = -7
	// GrantTypePreAuthorizedCode is the pre-authorized code grant type.
	GrantTypePreAuthorizedCode = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	// ProofTypeJWT is the jwt key proof type.
	ProofTypeJWT = "jwt"
	// ProofTypeAttestation is the key attestation proof type (appendix D), offered where a definition requires
	// key attestations.
	ProofTypeAttestation = "attestation"
	// ProofJWTType is the typ header every key proof JWT carries.
	ProofJWTType = "openid4vci-proof+jwt"
	// BindingMethodJWK is the cryptographic binding method: the holder key travels as a JWK.
	BindingMethodJWK = "jwk"
	// BindingMethodCOSEKey is the binding method of mdocs: the holder key sits in the MSO as a COSE_Key (the
	// wallet still proves it with a jwt proof carrying it as a JWK).
	BindingMethodCOSEKey = "cose_key"
	// LegacyConfigurationSuffix is appended to a configuration id to name its vc+sd-jwt twin for draft-13 wallets.
	LegacyConfigurationSuffix = "_vc_sd_jwt"
)

// Well-known document names, inserted into the issuer identifier by WellKnownURL.
const (
	// WellKnownCredentialIssuer is the OpenID4VCI issuer metadata document.
	WellKnownCredentialIssuer = "openid-credential-issuer"
	// WellKnownAuthorizationServer is the RFC 8414 authorization server metadata document.
	WellKnownAuthorizationServer = "oauth-authorization-server"
	// WellKnownJWTVCIssuer is the SD-JWT VC issuer key document.
	WellKnownJWTVCIssuer = "jwt-vc-issuer"
)

// Endpoints are the absolute URLs of the issuer's OAuth and OpenID4VCI endpoints. Empty optional endpoints are left
// out of the metadata.
type Endpoints struct {
	Token        string
	Credential   string
	Nonce        string
	Deferred     string
	Notification string
	// PushedAuthorization, Authorization and DirectPost are the authorization code flow's: PAR (RFC 9126), the
	// authorization endpoint, and where wallets post their answers to holder authentication requests.
	PushedAuthorization string
	Authorization       string
	DirectPost          string
}

// DefaultEndpoints are the endpoints at the paths this project serves them (docs/design.md), under issuerURL.
func DefaultEndpoints(issuerURL string) Endpoints {
	base := strings.TrimRight(issuerURL, "/")
	return Endpoints{
		Token:               base + "/token",
		Credential:          base + "/credential",
		Nonce:               base + "/nonce",
		Deferred:            base + "/deferred-credential",
		Notification:        base + "/notification",
		PushedAuthorization: base + "/par",
		Authorization:       base + "/authorize",
		DirectPost:          base + "/direct_post",
	}
}

// Image is a logo or background image.
type Image struct {
	URI     string `json:"uri"`
	AltText string `json:"alt_text,omitempty"`
}

// IssuerDisplay is how the issuer is shown for one locale.
type IssuerDisplay struct {
	Name   string `json:"name,omitempty"`
	Locale string `json:"locale,omitempty"`
	Logo   *Image `json:"logo,omitempty"`
}

// CredentialDisplay is how a credential is shown for one locale; Name is required.
type CredentialDisplay struct {
	Name            string `json:"name"`
	Locale          string `json:"locale,omitempty"`
	Logo            *Image `json:"logo,omitempty"`
	Description     string `json:"description,omitempty"`
	BackgroundColor string `json:"background_color,omitempty"`
	BackgroundImage *Image `json:"background_image,omitempty"`
	TextColor       string `json:"text_color,omitempty"`
}

// ProofTypeMetadata lists the algorithms accepted for one key proof type, and the key attestations required.
type ProofTypeMetadata struct {
	ProofSigningAlgValuesSupported []string                 `json:"proof_signing_alg_values_supported"`
	KeyAttestationsRequired        *KeyAttestationsRequired `json:"key_attestations_required,omitempty"`
}

// KeyAttestationsRequired is key_attestations_required (1.0 section 12.2.4): the accepted attack potential
// resistance values of each component; an empty object requires a key attestation without constraints.
type KeyAttestationsRequired struct {
	KeyStorage         []string `json:"key_storage,omitempty"`
	UserAuthentication []string `json:"user_authentication,omitempty"`
}

// CredentialMetadata is the 1.0 home of a configuration's display and claims.
type CredentialMetadata struct {
	Display []CredentialDisplay `json:"display,omitempty"`
	Claims  []ClaimDescription  `json:"claims,omitempty"`
}

// CredentialDefinitionMetadata is credential_definition of a jwt_vc_json configuration.
type CredentialDefinitionMetadata struct {
	Type []string `json:"type"`
}

// CredentialConfiguration is one entry of credential_configurations_supported.
//
// The member naming the type depends on the format (1.0 appendix A): vct (dc+sd-jwt, vc+sd-jwt), doctype
// (mso_mdoc) or credential_definition.type (jwt_vc_json). credential_signing_alg_values_supported holds JWS
// algorithm names, except for mso_mdoc, where it holds COSE algorithm numbers (-7).
//
// One document serves 1.0 and draft wallets: besides the 1.0 members (credential_metadata), every configuration
// also carries display at its top level, where drafts 13 to 15 read it. Claims at the top level take the shape of
// the draft that introduced the configuration's format: the claims-description array of draft 15 for dc+sd-jwt,
// the nested claims object (with order) of draft 13 for the vc+sd-jwt twin. Wallets ignore members they do not
// know (1.0 section 12.2.4), so neither audience trips over the other's members.
type CredentialConfiguration struct {
	Format                               string                        `json:"format"`
	Scope                                string                        `json:"scope,omitempty"`
	VCT                                  string                        `json:"vct,omitempty"`
	DocType                              string                        `json:"doctype,omitempty"`
	CredentialDefinition                 *CredentialDefinitionMetadata `json:"credential_definition,omitempty"`
	CryptographicBindingMethodsSupported []string                      `json:"cryptographic_binding_methods_supported"`
	CredentialSigningAlgValuesSupported  []any                         `json:"credential_signing_alg_values_supported"`
	ProofTypesSupported                  map[string]ProofTypeMetadata  `json:"proof_types_supported"`
	CredentialMetadata                   *CredentialMetadata           `json:"credential_metadata,omitempty"`
	// Display repeats credential_metadata.display for drafts 13 to 15.
	Display []CredentialDisplay `json:"display,omitempty"`
	// Claims is []ClaimDescription (draft 15, on dc+sd-jwt) or the draft-13 nested object (on vc+sd-jwt).
	Claims any `json:"claims,omitempty"`
	// Order is the draft-13 display order of the top-level claims (vc+sd-jwt only).
	Order []string `json:"order,omitempty"`
	// CredentialResponseEncryption is set (with encryption_required true) on the configurations whose definition
	// requires encrypted responses while the issuer-wide member does not: not a member of OpenID4VCI 1.0, which
	// wallets ignore (section 12.2.4), but it tells a reader which configurations refuse clear answers.
	CredentialResponseEncryption *ResponseEncryptionMetadata `json:"credential_response_encryption,omitempty"`
	// WalletInitiated (true) says that a wallet may ask for this configuration without a credential offer, with its
	// scope or authorization_details at the authorization endpoint: not a member of OpenID4VCI 1.0 (wallets ignore
	// it), it tells wallets and readers which configurations they can request on their own.
	WalletInitiated bool `json:"wallet_initiated,omitempty"`
}

// BatchCredentialIssuance advertises how many proofs (and so credentials) one credential request may carry.
type BatchCredentialIssuance struct {
	BatchSize int `json:"batch_size"`
}

// CredentialIssuerMetadata is the document served at /.well-known/openid-credential-issuer (OpenID4VCI 1.0 section
// 12.2). The issuer is its own authorization server, so authorization_servers is absent.
type CredentialIssuerMetadata struct {
	CredentialIssuer                  string                             `json:"credential_issuer"`
	CredentialEndpoint                string                             `json:"credential_endpoint"`
	NonceEndpoint                     string                             `json:"nonce_endpoint,omitempty"`
	DeferredCredentialEndpoint        string                             `json:"deferred_credential_endpoint,omitempty"`
	NotificationEndpoint              string                             `json:"notification_endpoint,omitempty"`
	CredentialRequestEncryption       *RequestEncryptionMetadata         `json:"credential_request_encryption,omitempty"`
	CredentialResponseEncryption      *ResponseEncryptionMetadata        `json:"credential_response_encryption,omitempty"`
	BatchCredentialIssuance           *BatchCredentialIssuance           `json:"batch_credential_issuance,omitempty"`
	Display                           []IssuerDisplay                    `json:"display,omitempty"`
	CredentialConfigurationsSupported map[string]CredentialConfiguration `json:"credential_configurations_supported"`
	// SignedMetadata is the same document as a signed JWT (drafts 13 to 15; 1.0 serves the JWT itself for
	// Accept: application/jwt): see SignedMetadataClaims.
	SignedMetadata string `json:"signed_metadata,omitempty"`
}

// SignedMetadataType is the typ of signed issuer metadata (OpenID4VCI 1.0 section 12.2.3).
const SignedMetadataType = "openidvci-issuer-metadata+jwt"

// SignedMetadataClaims are the claims of the signed issuer metadata: every metadata parameter at the top level
// (never signed_metadata itself), sub and iss the issuer identifier, iat, and exp after ttl.
func SignedMetadataClaims(md *CredentialIssuerMetadata, now time.Time, ttl time.Duration) ([]byte, error) {
	unsigned := *md
	unsigned.SignedMetadata = ""
	b, err := json.Marshal(&unsigned)
	if err != nil {
		return nil, fmt.Errorf("signed metadata: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		return nil, fmt.Errorf("signed metadata: %w", err)
	}
	claims["sub"], claims["iss"] = md.CredentialIssuer, md.CredentialIssuer
	claims["iat"], claims["exp"] = now.Unix(), now.Add(ttl).Unix()
	out, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("signed metadata: %w", err)
	}
	return out, nil
}

// ConfigInput is what BuildMetadata needs to know about one credential definition.
type ConfigInput struct {
	// ID is the credential configuration id (the definition id); the vc+sd-jwt twin of an SD-JWT VC
	// configuration is ID+LegacyConfigurationSuffix.
	ID string
	// Format is dc+sd-jwt (also when empty: the configuration and its vc+sd-jwt twin), mso_mdoc or jwt_vc_json.
	Format string
	// VCT is the SD-JWT VC type.
	VCT string
	// DocType is the mdoc document type.
	DocType string
	// Types is the JWT VC's credential_definition.type.
	Types []string
	// Scope defaults to ID.
	Scope   string
	Display []CredentialDisplay
	Claims  []ClaimDescription
	// SigningAlgs are the issuer's credential signing algorithms (JWS names); default ES256. An mso_mdoc
	// configuration always lists the COSE number of ES256.
	SigningAlgs []string
	// ProofSigningAlgs are the algorithms accepted for key proofs; default ES256.
	ProofSigningAlgs []string
	// EncryptionRequired marks a configuration whose responses are only sent encrypted.
	EncryptionRequired bool
	// WalletInitiated announces that a wallet may ask for the configuration without an offer (wallet_initiated).
	WalletInitiated bool
	// KeyAttestationsRequired, when set, requires key attestations: announced on the jwt proof type, and the
	// attestation proof type is offered too.
	KeyAttestationsRequired *KeyAttestationsRequired
}

// DefaultAlgs is the algorithm list used when a ConfigInput names none: ES256, the HAIP baseline and the only
// algorithm of the issuer's KMS key.
func DefaultAlgs() []string { return []string{"ES256"} }

// MetadataOption adjusts BuildMetadata.
type MetadataOption func(*metadataOptions)

type metadataOptions struct {
	batchSize          int
	display            []IssuerDisplay
	responseEncryption *ResponseEncryptionMetadata
	requestEncryption  *RequestEncryptionMetadata
}

// WithResponseEncryption announces credential_response_encryption (ECDH-ES; A128GCM, A256GCM; DEF), required of
// every request when required is true.
func WithResponseEncryption(required bool) MetadataOption {
	return func(o *metadataOptions) { o.responseEncryption = NewResponseEncryptionMetadata(required) }
}

// WithRequestEncryption announces credential_request_encryption with the issuer's public request encryption keys;
// nil announces none.
func WithRequestEncryption(m *RequestEncryptionMetadata) MetadataOption {
	return func(o *metadataOptions) { o.requestEncryption = m }
}

// WithBatchSize advertises batch issuance of up to n credentials per request (n >= 2); 0 or 1 advertises none.
func WithBatchSize(n int) MetadataOption { return func(o *metadataOptions) { o.batchSize = n } }

// WithIssuerDisplay sets the issuer's display entries.
func WithIssuerDisplay(d []IssuerDisplay) MetadataOption {
	return func(o *metadataOptions) { o.display = d }
}

// BuildMetadata builds the credential issuer metadata. An SD-JWT VC input yields two configurations: ID with
// format dc+sd-jwt for 1.0 wallets, and ID+LegacyConfigurationSuffix with format vc+sd-jwt for draft-13 wallets
// that only know the older identifier (see CredentialConfiguration for how their members differ); an mso_mdoc or
// jwt_vc_json input yields one, ID. The error names the first invalid input.
func BuildMetadata(issuerURL string, endpoints Endpoints, configs []ConfigInput, opts ...MetadataOption) (*CredentialIssuerMetadata, error) {
	var o metadataOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := validateIssuerURL(issuerURL); err != nil {
		return nil, err
	}
	if endpoints.Credential == "" {
		return nil, fmt.Errorf("build metadata: the credential endpoint is required")
	}
	if o.batchSize < 0 {
		return nil, fmt.Errorf("build metadata: batch size %d is negative", o.batchSize)
	}
	md := &CredentialIssuerMetadata{
		CredentialIssuer:                  issuerURL,
		CredentialEndpoint:                endpoints.Credential,
		NonceEndpoint:                     endpoints.Nonce,
		DeferredCredentialEndpoint:        endpoints.Deferred,
		NotificationEndpoint:              endpoints.Notification,
		CredentialRequestEncryption:       o.requestEncryption,
		CredentialResponseEncryption:      o.responseEncryption,
		Display:                           o.display,
		CredentialConfigurationsSupported: make(map[string]CredentialConfiguration, 2*len(configs)),
	}
	if o.batchSize >= 2 {
		md.BatchCredentialIssuance = &BatchCredentialIssuance{BatchSize: o.batchSize}
	}
	for i, in := range configs {
		built, err := buildConfigurations(in)
		if err != nil {
			return nil, fmt.Errorf("build metadata: configuration %d: %w", i, err)
		}
		for id, cfg := range built {
			if in.EncryptionRequired && (o.responseEncryption == nil || !o.responseEncryption.EncryptionRequired) {
				cfg.CredentialResponseEncryption = NewResponseEncryptionMetadata(true)
			}
			cfg.WalletInitiated = in.WalletInitiated
			if _, dup := md.CredentialConfigurationsSupported[id]; dup {
				return nil, fmt.Errorf("build metadata: configuration %d: id %q is used twice", i, id)
			}
			md.CredentialConfigurationsSupported[id] = cfg
		}
	}
	return md, nil
}

func buildConfigurations(in ConfigInput) (map[string]CredentialConfiguration, error) {
	if in.ID == "" {
		return nil, fmt.Errorf("id is required")
	}
	for i, d := range in.Display {
		if d.Name == "" {
			return nil, fmt.Errorf("display %d: name is required", i)
		}
	}
	claims, err := ValidateClaims(in.Claims)
	if err != nil {
		return nil, err
	}
	signing, err := checkAlgs("credential signing", in.SigningAlgs)
	if err != nil {
		return nil, err
	}
	proofAlgs, err := checkAlgs("proof signing", in.ProofSigningAlgs)
	if err != nil {
		return nil, err
	}
	scope := in.Scope
	if scope == "" {
		scope = in.ID
	}
	base := CredentialConfiguration{
		Scope:                                scope,
		CryptographicBindingMethodsSupported: []string{BindingMethodJWK},
		CredentialSigningAlgValuesSupported:  anys(signing),
		ProofTypesSupported:                  proofTypes(proofAlgs, in.KeyAttestationsRequired),
		Display:                              in.Display,
	}
	if len(in.Display) > 0 || len(claims) > 0 {
		base.CredentialMetadata = &CredentialMetadata{Display: in.Display, Claims: claims}
	}
	switch in.Format {
	case "", FormatSDJWTVC:
	case FormatMsoMdoc:
		if in.DocType == "" {
			return nil, fmt.Errorf("doctype is required for %s", FormatMsoMdoc)
		}
		for i, c := range claims {
			if len(c.Path) != 2 || c.Path[0] == nil || c.Path[1] == nil {
				return nil, fmt.Errorf("claims[%d]: an %s claim path is [namespace, data element identifier]", i, FormatMsoMdoc)
			}
		}
		cfg := base
		cfg.Format, cfg.DocType = FormatMsoMdoc, in.DocType
		cfg.CryptographicBindingMethodsSupported = []string{BindingMethodCOSEKey}
		cfg.CredentialSigningAlgValuesSupported = []any{COSEAlgorithmES256}
		if len(claims) > 0 {
			cfg.Claims = claims
		}
		return map[string]CredentialConfiguration{in.ID: cfg}, nil
	case FormatJWTVCJSON:
		if len(in.Types) == 0 {
			return nil, fmt.Errorf("credential_definition.type is required for %s", FormatJWTVCJSON)
		}
		cfg := base
		cfg.Format = FormatJWTVCJSON
		cfg.CredentialDefinition = &CredentialDefinitionMetadata{Type: append([]string(nil), in.Types...)}
		if cfg.CredentialMetadata != nil && len(claims) > 0 {
			// 1.0 appendix A.1.1: a jwt_vc_json claim path starts at the credential, so it goes through
			// credentialSubject.
			prefixed := make([]ClaimDescription, len(claims))
			for i, c := range claims {
				c.Path = append(ClaimPath{"credentialSubject"}, c.Path...)
				prefixed[i] = c
			}
			cfg.CredentialMetadata = &CredentialMetadata{Display: in.Display, Claims: prefixed}
		}
		return map[string]CredentialConfiguration{in.ID: cfg}, nil
	default:
		return nil, fmt.Errorf("format %q is not issued", in.Format)
	}
	if in.VCT == "" {
		return nil, fmt.Errorf("vct is required")
	}
	current := base
	current.Format, current.VCT = FormatSDJWTVC, in.VCT
	if len(claims) > 0 {
		current.Claims = claims
	}
	legacy := base
	legacy.Format, legacy.VCT = FormatLegacySDJWTVC, in.VCT
	if len(claims) > 0 {
		legacy.Claims, legacy.Order = draft13Claims(claims)
	}
	return map[string]CredentialConfiguration{in.ID: current, in.ID + LegacyConfigurationSuffix: legacy}, nil
}

// anys is algs as the []any of credential_signing_alg_values_supported.
func anys(algs []string) []any {
	out := make([]any, len(algs))
	for i, a := range algs {
		out[i] = a
	}
	return out
}

// proofTypes is proof_types_supported: jwt, and attestation where key attestations are required.
func proofTypes(algs []string, ka *KeyAttestationsRequired) map[string]ProofTypeMetadata {
	out := map[string]ProofTypeMetadata{ProofTypeJWT: {ProofSigningAlgValuesSupported: algs, KeyAttestationsRequired: ka}}
	if ka != nil {
		out[ProofTypeAttestation] = ProofTypeMetadata{ProofSigningAlgValuesSupported: algs, KeyAttestationsRequired: ka}
	}
	return out
}

// checkAlgs defaults an empty list to ES256 and refuses none and symmetric (MAC) algorithms.
func checkAlgs(what string, algs []string) ([]string, error) {
	if len(algs) == 0 {
		return DefaultAlgs(), nil
	}
	out := make([]string, 0, len(algs))
	for _, a := range algs {
		if !asymmetricAlg(a) {
			return nil, fmt.Errorf("%s algorithm %q is not an asymmetric JWS algorithm", what, a)
		}
		out = append(out, a)
	}
	return out, nil
}

// validateIssuerURL checks the credential issuer identifier: an absolute http(s) URL with a host and neither query
// nor fragment. OpenID4VCI requires https; http is accepted for local development.
func validateIssuerURL(issuerURL string) error {
	u, err := url.Parse(issuerURL)
	if err != nil {
		return fmt.Errorf("issuer URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("issuer URL must use https (or http for local development)")
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("issuer URL must have a host and no query, fragment or user info")
	}
	return nil
}

// WellKnownURL inserts /.well-known/<name> between the host and the path of the issuer identifier, as OpenID4VCI
// 1.0 section 12.2.2, RFC 8414 section 3 and SD-JWT VC require: https://example.com/tenant becomes
// https://example.com/.well-known/<name>/tenant.
func WellKnownURL(issuerURL, name string) (string, error) {
	if err := validateIssuerURL(issuerURL); err != nil {
		return "", err
	}
	u, err := url.Parse(issuerURL)
	if err != nil {
		return "", fmt.Errorf("issuer URL: %w", err)
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	return u.Scheme + "://" + u.Host + "/.well-known/" + name + path, nil
}

// AuthorizationServerMetadata is the RFC 8414 document the issuer serves as its own authorization server: the
// pre-authorized code grant, and the authorization code grant through pushed authorization requests (required,
// RFC 9126), PKCE S256 (RFC 7636), authorization_details of type openid_credential (RFC 9396) and iss in the
// authorization response (RFC 9207), as HAIP 1.0 asks.
type AuthorizationServerMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	PushedAuthorizationRequestEndpoint         string   `json:"pushed_authorization_request_endpoint,omitempty"`
	RequirePushedAuthorizationRequests         bool     `json:"require_pushed_authorization_requests,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	PreAuthorizedGrantAnonymousAccessSupported bool     `json:"pre-authorized_grant_anonymous_access_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	AuthorizationDetailsTypesSupported         []string `json:"authorization_details_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	// DPoPSigningAlgValuesSupported announces DPoP (RFC 9449 section 5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// ClientAttestationSigningAlgValuesSupported and ClientAttestationPoPSigningAlgValuesSupported are required
	// with attest_jwt_client_auth (draft-ietf-oauth-attestation-based-client-auth-07 section 10.1).
	ClientAttestationSigningAlgValuesSupported    []string `json:"client_attestation_signing_alg_values_supported,omitempty"`
	ClientAttestationPoPSigningAlgValuesSupported []string `json:"client_attestation_pop_signing_alg_values_supported,omitempty"`
}

// AuthMethodAttestJWT is the token endpoint authentication method of OAuth attestation-based client
// authentication.
const AuthMethodAttestJWT = "attest_jwt_client_auth"

// ASOption adjusts BuildAuthorizationServerMetadata.
type ASOption func(*AuthorizationServerMetadata)

// WithDPoP announces DPoP with the accepted proof algorithms.
func WithDPoP(algs []string) ASOption {
	return func(m *AuthorizationServerMetadata) { m.DPoPSigningAlgValuesSupported = algs }
}

// WithClientAttestation announces attest_jwt_client_auth beside none (anonymous access stays possible where a
// credential definition does not require an attestation) with the accepted algorithms of attestations and PoPs.
func WithClientAttestation(algs, popAlgs []string) ASOption {
	return func(m *AuthorizationServerMetadata) {
		m.TokenEndpointAuthMethodsSupported = append(m.TokenEndpointAuthMethodsSupported, AuthMethodAttestJWT)
		m.ClientAttestationSigningAlgValuesSupported = algs
		m.ClientAttestationPoPSigningAlgValuesSupported = popAlgs
	}
}

// BuildAuthorizationServerMetadata builds the authorization server metadata: the pre-authorized code grant with
// anonymous (no client_id) token requests accepted, the authorization code grant when endpoints name the
// authorization and PAR endpoints, and what the options announce.
func BuildAuthorizationServerMetadata(issuerURL string, endpoints Endpoints, opts ...ASOption) (*AuthorizationServerMetadata, error) {
	if err := validateIssuerURL(issuerURL); err != nil {
		return nil, err
	}
	if endpoints.Token == "" {
		return nil, fmt.Errorf("build authorization server metadata: the token endpoint is required")
	}
	md := &AuthorizationServerMetadata{
		Issuer:              issuerURL,
		TokenEndpoint:       endpoints.Token,
		GrantTypesSupported: []string{GrantTypePreAuthorizedCode},
		PreAuthorizedGrantAnonymousAccessSupported: true,
		ResponseTypesSupported:                     []string{},
		TokenEndpointAuthMethodsSupported:          []string{"none"},
	}
	if endpoints.Authorization != "" && endpoints.PushedAuthorization != "" {
		md.AuthorizationEndpoint = endpoints.Authorization
		md.PushedAuthorizationRequestEndpoint = endpoints.PushedAuthorization
		md.RequirePushedAuthorizationRequests = true
		md.GrantTypesSupported = []string{GrantTypeAuthorizationCode, GrantTypePreAuthorizedCode}
		md.ResponseTypesSupported = []string{ResponseTypeCode}
		md.ResponseModesSupported = []string{"query"}
		md.CodeChallengeMethodsSupported = []string{CodeChallengeMethodS256}
		md.AuthorizationResponseIssParameterSupported = true
		md.AuthorizationDetailsTypesSupported = []string{AuthorizationDetailsTypeCredential}
	}
	for _, o := range opts {
		o(md)
	}
	return md, nil
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []map[string]any `json:"keys"`
}

// JWTVCIssuerMetadata is the SD-JWT VC issuer metadata document served at /.well-known/jwt-vc-issuer.
type JWTVCIssuerMetadata struct {
	Issuer string `json:"issuer"`
	JWKS   JWKS   `json:"jwks"`
}

// BuildJWTVCIssuerMetadata builds the jwt-vc-issuer document from the issuer's signing keys. Only the public part of
// each key is published; every key needs a kid, since verifiers find the key by the kid in the credential header.
func BuildJWTVCIssuerMetadata(issuerURL string, keys ...jwk.Key) (*JWTVCIssuerMetadata, error) {
	if err := validateIssuerURL(issuerURL); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("build jwt-vc-issuer metadata: at least one key is required")
	}
	out := &JWTVCIssuerMetadata{Issuer: issuerURL, JWKS: JWKS{Keys: make([]map[string]any, 0, len(keys))}}
	for i, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("build jwt-vc-issuer metadata: key %d is nil", i)
		}
		if k.KeyID() == "" {
			return nil, fmt.Errorf("build jwt-vc-issuer metadata: key %d has no kid", i)
		}
		pub, err := jwk.PublicKeyOf(k)
		if err != nil {
			return nil, fmt.Errorf("build jwt-vc-issuer metadata: public part of key %d: %w", i, err)
		}
		m, err := keyMap(pub)
		if err != nil {
			return nil, fmt.Errorf("build jwt-vc-issuer metadata: key %d: %w", i, err)
		}
		if hasPrivateMember(m) {
			return nil, fmt.Errorf("build jwt-vc-issuer metadata: key %d is symmetric and cannot be published", i)
		}
		out.JWKS.Keys = append(out.JWKS.Keys, m)
	}
	return out, nil
}

// keyMap renders a JWK as its JSON members.
func keyMap(k jwk.Key) (map[string]any, error) {
	b, err := json.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("marshal jwk: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("unmarshal jwk: %w", err)
	}
	return m, nil
}
