package definition

// DynamicConfiguration is a credential configuration created by issuing without a definition (from
// credential.type); the issuer metadata lists it until it expires.
type DynamicConfiguration struct {
	ConfigurationID string `json:"configurationId"`
	VCT             string `json:"vct"`
	// Claims are the top-level claim names last issued under it, all selectively disclosable.
	Claims    []string `json:"claims"`
	ExpiresAt int64    `json:"expiresAt"`
}
