package definition

// DynamicConfiguration is a credential configuration created by issuing without a definition (from
// credential.type); the issuer metadata lists it until it expires.
type DynamicConfiguration struct {
	ConfigurationID string `json:"configurationId"`
	VCT             string `json:"vct"`
	// Claims were the top-level claim names issued under it, written by earlier releases only: the issuer no
	// longer keeps or publishes them (docs/security.md, claim names in public metadata).
	Claims    []string `json:"claims"`
	ExpiresAt int64    `json:"expiresAt"`
}
