package wallet

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/keyattest"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// provenKeys is what the key proofs of a credential request establish: the keys to bind credentials to, the
// c_nonces to consume with the write, and what the record keeps of the proofs.
type provenKeys struct {
	// keys are the holder keys, without repeats: every key proven by a jwt proof, or, where the definition
	// requires key attestations, every attested key (and nothing else).
	keys []oid4vci.AttestedKey
	// nonces are the distinct c_nonces of the proofs and key attestations.
	nonces []string
	// raws are the proofs as received (the jwt proofs, or the key attestation of the attestation proof type).
	raws []string
	// proofType is jwt or attestation; jti the first jwt proof's jti.
	proofType, jti string
}

// proveKeys validates the key proofs of req against rec's definition: jwt proofs (at least one, at most
// batch_size; aud = the issuer URL, iat, signature, a c_nonce present), each with a key attestation of a trusted
// wallet provider meeting key_attestations_required where the definition has one, or the attestation proof type
// (only there). The c_nonces (of proofs and attestations) are checked by consuming them in the credential write.
func (s *Service) proveKeys(rec *exchange.Record, req *oid4vci.CredentialRequest, now time.Time) (*provenKeys, error) {
	required := rec.Definition.KeyAttestationsRequired
	if req.KeyAttestation != "" {
		if required == nil {
			return nil, oid4vci.Errorf(oid4vci.ErrInvalidProof, "the attestation proof type is accepted only for "+
				"credentials that require key attestations (key_attestations_required); send jwt proofs")
		}
		att, err := s.verifyKeyAttestation(req.KeyAttestation, requirementOf(rec), now, false)
		if err != nil {
			return nil, err
		}
		p := &provenKeys{raws: []string{req.KeyAttestation}, proofType: oid4vci.ProofTypeAttestation}
		p.addNonce(att.nonce)
		p.addKeys(att.keys)
		return p, nil
	}
	if len(req.ProofJWTs) == 0 {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidProof, "a jwt key proof is required: send proofs.jwt "+
			"with a proof signed by the key the credential is bound to")
	}
	if len(req.ProofJWTs) > s.cfg.BatchSize {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidCredentialRequest, "at most %d proofs (batch_size) per "+
			"request", s.cfg.BatchSize)
	}
	p := &provenKeys{proofType: oid4vci.ProofTypeJWT}
	exp := oid4vci.ProofExpectations{Audience: s.cfg.IssuerURL, Now: now, RequireNonce: true}
	if required != nil {
		exp.KeyAttestation = func(token string) ([]oid4vci.AttestedKey, error) {
			att, err := s.verifyKeyAttestation(token, requirementOf(rec), now, true)
			if err != nil {
				return nil, err
			}
			p.addNonce(att.nonce)
			return att.keys, nil
		}
	}
	proofs, err := oid4vci.ValidateProofs(req.ProofJWTs, exp)
	if err != nil {
		return nil, err
	}
	if len(proofs) == 0 {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidProof, "no valid key proof in the request")
	}
	for _, pr := range proofs {
		p.raws = append(p.raws, pr.Raw)
		p.addNonce(pr.Nonce)
		if required != nil {
			p.addKeys(pr.AttestedKeys)
		} else {
			p.addKeys([]oid4vci.AttestedKey{{Key: pr.Key, JWK: pr.JWK, Thumbprint: pr.Thumbprint}})
		}
	}
	p.jti = proofs[0].JTI
	if len(p.keys) > s.cfg.BatchSize {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidProof, "the key attestations attest %d keys; at most %d "+
			"(batch_size) are bound in one request", len(p.keys), s.cfg.BatchSize)
	}
	return p, nil
}

// verifiedKeyAttestation is a key attestation that passed keyattest.Verify, its keys in the form proofs use.
type verifiedKeyAttestation struct {
	keys  []oid4vci.AttestedKey
	nonce string
}

// verifyKeyAttestation checks a key attestation against the trusted wallet providers and the definition's
// requirement; inProof requires exp (a key attestation in a jwt proof header). Its nonce must be present: the
// caller consumes it as a c_nonce. Failures are invalid_proof.
func (s *Service) verifyKeyAttestation(token string, required *keyattest.Requirements, now time.Time, inProof bool) (*verifiedKeyAttestation, error) {
	att, err := keyattest.Verify(token, keyattest.Options{Trust: s.trust, Time: jwtverify.Window{Now: now},
		RequireExp: inProof, Required: required, MaxKeys: s.cfg.BatchSize})
	var ke *keyattest.Error
	if errors.As(err, &ke) {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidProof, "%s", ke.Description)
	}
	if err != nil {
		return nil, fmt.Errorf("verify key attestation: %w", err)
	}
	if att.Nonce == "" {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidProof, "the key attestation must carry a c_nonce of the "+
			"nonce endpoint in its nonce claim")
	}
	out := &verifiedKeyAttestation{nonce: att.Nonce}
	for _, k := range att.Keys {
		// The canonical key (EC coordinates at full size, nothing but the key) for cnf.jwk.
		canonical, err := jwtverify.PublicKeyOf(k.Raw, "an attested key")
		if err != nil {
			return nil, oid4vci.Errorf(oid4vci.ErrInvalidProof, "%s", err)
		}
		out.keys = append(out.keys, oid4vci.AttestedKey{Key: canonical.JWK, JWK: canonical.Members(),
			Thumbprint: canonical.Thumbprint, KID: k.JWK.KeyID()})
	}
	return out, nil
}

// requirementOf is the definition's key_attestations_required as keyattest checks it.
func requirementOf(rec *exchange.Record) *keyattest.Requirements {
	r := rec.Definition.KeyAttestationsRequired
	if r == nil {
		return nil
	}
	return &keyattest.Requirements{KeyStorage: r.KeyStorage, UserAuthentication: r.UserAuthentication}
}

func (p *provenKeys) addNonce(n string) {
	if n == "" {
		return
	}
	for _, x := range p.nonces {
		if x == n {
			return
		}
	}
	p.nonces = append(p.nonces, n)
}

func (p *provenKeys) addKeys(keys []oid4vci.AttestedKey) {
	for _, k := range keys {
		dup := false
		for _, x := range p.keys {
			dup = dup || x.Thumbprint == k.Thumbprint
		}
		if !dup {
			p.keys = append(p.keys, k)
		}
	}
}

// consumeNonces opens each distinct c_nonce of the proofs and key attestations (minted by this deployment,
// unexpired: else invalid_nonce, before anything is signed or written) and returns one op per nonce putting its
// used-marker, which lives until the nonce expires: the write fails if the marker exists (a second use).
func (s *Service) consumeNonces(p *provenKeys, now time.Time) ([]exchange.PointerOp, error) {
	ops := make([]exchange.PointerOp, 0, len(p.nonces))
	for _, n := range p.nonces {
		exp, err := s.nonces.Open(n, now)
		if err != nil {
			return nil, errNonceGone
		}
		ops = append(ops, exchange.PointerOp{Put: &exchange.Pointer{Key: exchange.CNonceMarker(n), ExpiresAt: exp.Unix()}})
	}
	return ops, nil
}

// jwkKeys are the holder keys as jwx keys, in order.
func (p *provenKeys) jwkKeys() []jwk.Key {
	out := make([]jwk.Key, len(p.keys))
	for i, k := range p.keys {
		out[i] = k.Key
	}
	return out
}

// thumbprints are the holder keys' thumbprints, sorted.
func (p *provenKeys) thumbprints() []string {
	out := make([]string, len(p.keys))
	for i, k := range p.keys {
		out[i] = k.Thumbprint
	}
	sort.Strings(out)
	return out
}

// record puts the holder binding into the record: cnf of the first key, the proofs as received (comma-joined,
// like credentialToken), the proof type and the first proof's jti, and the thumbprints of every bound key.
func (p *provenKeys) record(rec *exchange.Record) {
	rec.Cnf = map[string]any{"jwk": p.keys[0].JWK}
	rec.Proof = strings.Join(p.raws, exchange.CredentialTokenSeparator)
	rec.ProofType = p.proofType
	rec.JTI = p.jti
	rec.HolderKeys = p.thumbprints()
}
