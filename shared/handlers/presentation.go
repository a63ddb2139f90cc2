package handlers

import (
	"fmt"

	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/presentation"
	"github.com/sdjwt-issuer/issuer/shared/requestkeys"
	"github.com/sdjwt-issuer/issuer/shared/vpverify"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// presentationStep builds the OpenID4VP holder authentication of a dynamic credential request (shared/presentation)
// for a wallet service that has the signing key: requests are signed with it (x509_san_dns, when its certificate
// names the issuer host) and presentations of this issuer's own credentials are verified with its public key and
// against its status lists read from the store; other issuers are trusted through a definition's trustedIssuers
// (their documents fetched by Deps.IssuerDocs) or ISSUER_TRUST_ANCHORS. nil without a store (tests of other
// routes).
func (w *Wallet) presentationStep(signer wallet.CredentialSigner, own vpverify.OwnStatus) (wallet.HolderAuthenticator, error) {
	d := w.deps
	if d.Store == nil || d.IssuerDocs == nil {
		return nil, nil
	}
	v, err := vpverify.New(vpverify.Options{IssuerURL: d.Config.IssuerURL, OwnKeys: keys.PublicJWKS(signer),
		OwnStatus: own, Anchors: d.IssuerTrust, Fetcher: d.IssuerDocs, Now: w.now})
	if err != nil {
		return nil, fmt.Errorf("presentation step: %w", err)
	}
	deps := presentation.Deps{Store: d.Store, Signer: signer, Verifier: v, Now: w.now}
	if ring := w.presentationKeys(); ring != nil {
		deps.Keys = ring
	}
	step, err := presentation.New(presentation.Config{ResponseURI: oid4vci.DefaultEndpoints(d.Config.IssuerURL).DirectPost}, deps)
	if err != nil {
		return nil, fmt.Errorf("presentation step: %w", err)
	}
	return step, nil
}

// presentationKeys is the container's OpenID4VP response encryption key ring (requestkeys.PresentationResponses,
// wrapped by the same KMS key as the credential request keys under its own encryption context), nil when the
// deployment has no request encryption key: presentations then come in the clear (direct_post).
func (w *Wallet) presentationKeys() *requestkeys.Ring {
	cfg := w.deps.Config.Trust
	if cfg.RequestEncryptionKMSKeyID == "" || w.deps.Store == nil || w.deps.Clients == nil || w.deps.Clients.KMS == nil {
		return nil
	}
	w.vpMu.Lock()
	defer w.vpMu.Unlock()
	if w.vpRing == nil {
		w.vpRing = requestkeys.NewFor(requestkeys.PresentationResponses, w.deps.Store.KeysOf(requestkeys.PresentationResponses),
			w.deps.Clients.KMS, cfg.RequestEncryptionKMSKeyID, 0, w.now)
	}
	return w.vpRing
}
