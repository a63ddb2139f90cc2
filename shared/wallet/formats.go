package wallet

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/jwtvc"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/mdoc"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// MdocIssuer is the issuer's mdoc signer: the credential signing key with its document signer certificate chain.
// mdoc.SelfSignedIssuer implements it over the same key (KMS or local) as every other credential.
type MdocIssuer interface {
	// Issuer returns the mdoc issuer (key and x5chain), making what it needs on first use.
	Issuer(ctx context.Context) (*mdoc.Issuer, error)
}

// defaultMdocIssuer signs mdocs with the credential key and its configured certificate chain (keys.ChainSigner:
// ISSUER_CERT_CHAIN), else with a self-signed document signer certificate naming the issuer URL's host, made on
// the first mdoc.
func defaultMdocIssuer(signer CredentialSigner, issuerURL string) MdocIssuer {
	if cs, ok := signer.(keys.ChainSigner); ok && len(cs.CertificateChain()) > 0 {
		return &chainMdocIssuer{signer: cs}
	}
	host := issuerURL
	if u, err := url.Parse(issuerURL); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	return mdoc.NewSelfSignedIssuer(signer, host)
}

// chainMdocIssuer signs mdocs with the certified key, its chain (leaf and intermediates) as x5chain.
type chainMdocIssuer struct {
	signer keys.ChainSigner
	once   sync.Once
	is     *mdoc.Issuer
	err    error
}

// Issuer makes the mdoc issuer once (NewIssuer checks that the leaf certifies the key).
func (c *chainMdocIssuer) Issuer(context.Context) (*mdoc.Issuer, error) {
	c.once.Do(func() { c.is, c.err = mdoc.NewIssuer(c.signer, c.signer.CertificateChain()) })
	return c.is, c.err
}

// issued is one credential about to be issued: its claims, holder key, validity and status reference.
type issued struct {
	subject  map[string]any
	key      jwk.Key
	now      time.Time
	expiry   time.Time
	status   *sdjwt.StatusReference
	sdPolicy *sdjwt.Policy
	// typeIntegrity is the SD-JWT VC's vct#integrity ("" for none).
	typeIntegrity string
}

// issueCredentials signs max(payloads, keys) credentials in the requested format (see RequestCredential): each
// with its status list entry when the exchange supports revocation, each verified with the issuer's key before
// it leaves.
func (s *Service) issueCredentials(ctx context.Context, rec *exchange.Record, keys []jwk.Key, format string) ([]string, error) {
	def := &rec.Definition
	var policy *sdjwt.Policy
	var integrity string
	if definition.IsSDJWT(format) {
		var err error
		if policy, err = definition.Policy(def.Claims); err != nil {
			return nil, fmt.Errorf("issue credential: definition snapshot: %w", err)
		}
		if integrity, err = s.typeIntegrity(ctx, def); err != nil {
			return nil, fmt.Errorf("issue credential: %w", err)
		}
	}
	payloads := rec.Credentials
	now := s.rt.Now().Truncate(time.Second)
	var expiry time.Time
	if def.ExpirationInDays > 0 {
		expiry = now.AddDate(0, 0, def.ExpirationInDays)
	}
	if cs, ok := s.signer.(interface{ Chain() *issuercert.Chain }); ok {
		expiry = capValidity(expiry, cs.Chain().NotAfter())
	}
	n := max(len(payloads), len(keys))
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		c := issued{subject: payloads[i%len(payloads)].CredentialSubject, key: keys[i%len(keys)], now: now,
			expiry: expiry, sdPolicy: policy, typeIntegrity: integrity}
		if s.status != nil && rec.SupportRevocation {
			ref, err := s.status.AllocateStatus(ctx, rec)
			if err != nil {
				return nil, fmt.Errorf("issue credential: allocate status: %w", err)
			}
			c.status = ref
		}
		var (
			cred string
			err  error
		)
		switch format {
		case definition.FormatMdoc:
			cred, err = s.issueMdoc(ctx, def, c)
		case definition.FormatJWTVC:
			cred, err = s.issueJWTVC(ctx, def, c)
		default:
			cred, err = s.issueSDJWT(ctx, def, c, sdjwt.Format(format))
		}
		if err != nil {
			return nil, fmt.Errorf("issue credential: %w", err)
		}
		out = append(out, cred)
	}
	return out, nil
}

// capValidity is a credential's expiry under a certificate chain that ends at end (zero: no chain): never after
// it, since a verifier that validates the chain refuses the credential from then on, whatever its exp says; a
// credential without expiry gets end (docs/design.md "Credential validity and the certificate chain").
func capValidity(expiry, end time.Time) time.Time {
	if end.IsZero() || (!expiry.IsZero() && !end.Before(expiry)) {
		return expiry
	}
	return end.Truncate(time.Second)
}

// chainNotAfter is the earliest NotAfter of a DER certificate chain (an mdoc's x5chain).
func chainNotAfter(chain [][]byte) (time.Time, error) {
	var end time.Time
	for _, der := range chain {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return time.Time{}, fmt.Errorf("document signer chain: %w", err)
		}
		if end.IsZero() || cert.NotAfter.Before(end) {
			end = cert.NotAfter
		}
	}
	return end, nil
}

// issueSDJWT issues one SD-JWT VC of typ format.
func (s *Service) issueSDJWT(ctx context.Context, def *definition.Definition, c issued, format sdjwt.Format) (string, error) {
	vc := sdjwt.VC{Issuer: s.cfg.IssuerURL, Type: def.VCT, TypeIntegrity: c.typeIntegrity, IssuedAt: c.now,
		Expiry: c.expiry, HolderKey: c.key, Claims: c.subject, Policy: c.sdPolicy, Status: c.status}
	iss, err := sdjwt.IssueVC(ctx, s.signer, vc, sdjwt.WithFormat(format))
	if err != nil {
		return "", err
	}
	if _, err := sdjwt.Verify(iss.SDJWT, sdjwt.WithIssuerKey(s.signer.PublicJWK()),
		sdjwt.WithClock(func() time.Time { return c.now })); err != nil {
		return "", fmt.Errorf("self-verification failed: %w", err)
	}
	return iss.SDJWT, nil
}

// issueMdoc issues one mdoc: the subject's namespaces (typed as the definition says), the holder key as device
// key, valid from now until the expiry, base64url of IssuerSigned.
func (s *Service) issueMdoc(ctx context.Context, def *definition.Definition, c issued) (string, error) {
	nameSpaces, err := def.MdocNameSpaces(c.subject)
	if err != nil {
		return "", fmt.Errorf("credential subject does not fit the mdoc: %w", err)
	}
	is, err := s.mdoc.Issuer(ctx)
	if err != nil {
		return "", err
	}
	end, err := chainNotAfter(is.Chain())
	if err != nil {
		return "", err
	}
	doc := mdoc.Document{DocType: def.DocType, NameSpaces: nameSpaces, DeviceKey: c.key, Signed: c.now,
		ValidUntil: capValidity(c.expiry, end)}
	if c.status != nil {
		doc.Status = &mdoc.StatusReference{Index: c.status.Index, URI: c.status.URI}
	}
	out, err := is.Issue(ctx, doc)
	if err != nil {
		return "", err
	}
	chain := is.Chain()
	anchor, err := x509.ParseCertificate(chain[len(chain)-1])
	if err != nil {
		return "", fmt.Errorf("self-verification failed: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(anchor)
	if _, err := mdoc.Verify(out.IssuerSigned, mdoc.VerifyOptions{Roots: roots, Now: c.now, DocType: def.DocType}); err != nil {
		return "", fmt.Errorf("self-verification failed: %w", err)
	}
	return out.Encoded(), nil
}

// issueJWTVC issues one W3C VC as a JWT (VC Data Model 1.1) of the definition's types.
func (s *Service) issueJWTVC(ctx context.Context, def *definition.Definition, c issued) (string, error) {
	cred := jwtvc.Credential{Issuer: s.cfg.IssuerURL, Types: def.Type, IssuedAt: c.now, Expiry: c.expiry,
		HolderKey: c.key, Subject: c.subject}
	if c.status != nil {
		cred.Status = &jwtvc.StatusReference{Index: c.status.Index, URI: c.status.URI}
	}
	token, err := jwtvc.Issue(ctx, s.signer, cred)
	if err != nil {
		return "", err
	}
	if _, err := jwtvc.Verify(token, keys.PublicJWKS(s.signer), c.now); err != nil {
		return "", fmt.Errorf("self-verification failed: %w", err)
	}
	return token, nil
}
