package wallet

import (
	"context"
	"crypto"
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// answerRecorded serves a credential request on an exchange that is already credential_issued: the answer of
// the request that was recorded got lost (the function died after DynamoDB applied the write, or the response
// never reached the wallet), and the wallet retries on the same access token. When the retry's proofs (with a
// fresh, valid c_nonce, consumed as usual) prove exactly the holder keys the recorded proofs proved and it asks
// for the recorded format, the recorded credentials are answered again: the same strings, no new signature, no
// new status list entry, with a fresh notification_id. (An mdoc or JWT VC exchange has one format, so asking for
// it is asking for the recorded one; an SD-JWT VC was issued as dc+sd-jwt or vc+sd-jwt, its typ says which.) Any other retry is credential_request_denied, so a token
// never yields two issuances' worth of credentials.
func (s *Service) answerRecorded(ctx context.Context, rec exchange.Record, req *oid4vci.CredentialRequest, format string) (*CredentialAnswer, error) {
	denied := oid4vci.Errorf(oid4vci.ErrCredentialRequestDenied, "the credentials of this offer were already "+
		"issued for other keys; ask the issuer for a new offer")
	proofs, err := s.proveKeys(&rec, req, s.rt.Now())
	if err != nil {
		return nil, err
	}
	recorded := rec.HolderKeys
	if len(recorded) == 0 {
		if recorded, err = recordedThumbprints(rec.Proof); err != nil {
			return nil, fmt.Errorf("answer recorded credentials: %w", err)
		}
	}
	creds := strings.Split(rec.CredentialToken, exchange.CredentialTokenSeparator)
	if !slices.Equal(proofs.thumbprints(), recorded) {
		return nil, denied
	}
	if definition.IsSDJWT(format) && string(issuedFormat(creds[0])) != format {
		return nil, oid4vci.Errorf(oid4vci.ErrCredentialRequestDenied, "the credentials of this offer were "+
			"already issued in the format %s; request that format", issuedFormat(creds[0]))
	}
	notif, err := exchange.NewExchangeSecret(s.rt.Random(), rec.CredentialExchangeID)
	if err != nil {
		return nil, fmt.Errorf("answer recorded credentials: %w", err)
	}
	next := rec.Clone()
	next.NotificationIDHash = exchange.HashSecret(notif)
	ops, err := s.consumeNonces(proofs, s.rt.Now())
	if err != nil {
		return nil, err
	}
	draft, err := s.draftNonce(ctx, req.Dialect)
	if err != nil {
		return nil, fmt.Errorf("answer recorded credentials: %w", err)
	}
	if err := s.commit(ctx, &rec, next, ops); err != nil {
		return nil, err
	}
	s.rt.Log().InfoContext(ctx, "recorded credentials answered again to the same holder keys",
		"credential_exchange_id", rec.CredentialExchangeID, "credentials", len(creds))
	return &CredentialAnswer{Dialect: req.Dialect, Shape: req.ProofShape, Issuance: oid4vci.Issuance{
		Format: format, CNonce: draft, Credentials: creds, NotificationID: notif}}, nil
}

// recordedThumbprints returns the sorted RFC 7638 thumbprints of the holder keys in the record's proofs (the
// comma-joined proof JWTs validated when the credentials were issued; their header carries the jwk), for records
// written before HolderKeys.
func recordedThumbprints(proofs string) ([]string, error) {
	if proofs == "" {
		return nil, fmt.Errorf("the record holds no proof")
	}
	raws := strings.Split(proofs, exchange.CredentialTokenSeparator)
	out := make([]string, 0, len(raws))
	seen := map[string]bool{}
	for i, raw := range raws {
		msg, err := jws.Parse([]byte(raw), jws.WithCompact())
		if err != nil || len(msg.Signatures()) != 1 {
			return nil, fmt.Errorf("recorded proof %d is not a compact JWS: %w", i, err)
		}
		k := msg.Signatures()[0].ProtectedHeaders().JWK()
		if k == nil {
			return nil, fmt.Errorf("recorded proof %d has no jwk header", i)
		}
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("recorded proof %d thumbprint: %w", i, err)
		}
		t := base64.RawURLEncoding.EncodeToString(tp)
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}

// issuedFormat is the typ of an issued SD-JWT VC's header (vc+sd-jwt or dc+sd-jwt); "" when it cannot be read.
func issuedFormat(cred string) sdjwt.Format {
	p, err := sdjwt.Parse(cred)
	if err != nil {
		return ""
	}
	typ, _ := p.Header["typ"].(string)
	return sdjwt.Format(typ)
}
