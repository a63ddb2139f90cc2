package wallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// NewNonce mints a c_nonce for the nonce endpoint without writing anything (docs/security.md): AES-256-GCM over
// its expiry (Config.NonceTTL) and random bytes, under the deployment's nonce key (exchange.CNonces). A proof
// carrying it is accepted once: the credential write puts its used-marker (exchange.CNonceMarker) under
// attribute_not_exists, in the transaction that records the issuance.
func (s *Service) NewNonce(ctx context.Context) (*oid4vci.CNonce, error) {
	now := s.rt.Now()
	exp := now.Add(s.cfg.NonceTTL).Truncate(time.Second)
	nonce, err := s.nonces.Mint(exp)
	if err != nil {
		return nil, fmt.Errorf("new nonce: %w", err)
	}
	return &oid4vci.CNonce{Value: nonce, ExpiresInSeconds: secondsUntil(now, exp.Unix())}, nil
}

// authorize finds the exchange of an access token: the token names its exchange, whose record is read directly
// (one GetItem) and must hold the token's hash with an unexpired deadline. An unknown, malformed or expired token,
// or one whose exchange is gone, is invalid_token (401); a token presented otherwise than it was issued (a
// DPoP-bound token without a proof by its key, a bearer token as DPoP) is refused too (checkBinding).
func (s *Service) authorize(ctx context.Context, access Access) (exchange.Record, error) {
	invalid := oid4vci.Errorf(oid4vci.ErrInvalidToken, "the access token is unknown or expired; redeem the "+
		"offer at the token endpoint again")
	accessToken := access.Token
	id, ok := exchange.SecretExchangeID(accessToken)
	if !ok || len(accessToken) > validation.MaxIDLen {
		return exchange.Record{}, invalid
	}
	rec, err := s.store.GetExchange(ctx, id)
	if errors.Is(err, exchange.ErrNotFound) {
		return exchange.Record{}, invalid
	}
	if err != nil {
		return exchange.Record{}, fmt.Errorf("look up access token: %w", err)
	}
	if !exchange.SecretMatches(accessToken, rec.AccessTokenHash) || rec.AccessTokenExpiresAt <= s.rt.Now().Unix() {
		return exchange.Record{}, invalid
	}
	if err := checkBinding(&rec, access); err != nil {
		return exchange.Record{}, err
	}
	return rec, nil
}

// draftNonce mints the fresh c_nonce that draft-13 and draft-12 wallets expect in a credential response or
// beside invalid_proof; other dialects get nil.
func (s *Service) draftNonce(ctx context.Context, d oid4vci.Dialect) (*oid4vci.CNonce, error) {
	if !d.Legacy() {
		return nil, nil
	}
	return s.NewNonce(ctx)
}

// DraftErrorNonce is the fresh c_nonce to send beside an invalid_proof or invalid_nonce answer to a draft wallet
// (nil for 1.0 wallets and other errors).
func (s *Service) DraftErrorNonce(ctx context.Context, d oid4vci.Dialect, err error) *oid4vci.CNonce {
	var oe *oid4vci.Error
	if !errors.As(err, &oe) || (oe.Code != oid4vci.ErrInvalidProof && oe.Code != oid4vci.ErrInvalidNonce) {
		return nil
	}
	n, nerr := s.draftNonce(ctx, d)
	if nerr != nil {
		s.rt.Log().WarnContext(ctx, "mint c_nonce for a draft error answer failed", "error", nerr.Error())
		return nil
	}
	return n
}
