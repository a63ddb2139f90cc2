package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/requestkeys"
)

var _ requestkeys.Store = (*Store)(nil)

// Request encryption key items: pk REQKEY#<period>, sk REQKEY; kid, the public JWK (JSON) and the KMS ciphertext
// of the private key (never the key itself); ttl when the key stops decrypting.
const (
	pkRequestKey       = "REQKEY#"
	skRequestKey       = "REQKEY"
	attrKeyID          = "kid"
	attrPublicJWK      = "publicJwk"
	attrWrappedPrivate = "wrappedPrivateKey"
)

// GetRequestKey implements requestkeys.Store (a strongly consistent read; expired is exchange.ErrNotFound).
func (st *Store) GetRequestKey(ctx context.Context, period int64) (requestkeys.Record, error) {
	item, err := st.get(ctx, pkRequestKey+strconv.FormatInt(period, 10), skRequestKey)
	if errors.Is(err, exchange.ErrNotFound) {
		return requestkeys.Record{}, err
	}
	if err != nil {
		return requestkeys.Record{}, fmt.Errorf("get request encryption key: %w", err)
	}
	rec := requestkeys.Record{Period: period, KeyID: str(item, attrKeyID), PublicJWK: []byte(str(item, attrPublicJWK)),
		ExpiresAt: num(item, AttrTTL)}
	if b, ok := item[attrWrappedPrivate].(*types.AttributeValueMemberB); ok {
		rec.Ciphertext = b.Value
	}
	return rec, nil
}

// PutRequestKey implements requestkeys.Store: a conditional put, one key per period (an expired leftover is
// replaced).
func (st *Store) PutRequestKey(ctx context.Context, r requestkeys.Record) error {
	item := key(pkRequestKey+strconv.FormatInt(r.Period, 10), skRequestKey)
	item[attrKeyID], item[attrPublicJWK], item[AttrTTL] = s(r.KeyID), s(string(r.PublicJWK)), n(r.ExpiresAt)
	item[attrWrappedPrivate] = &types.AttributeValueMemberB{Value: r.Ciphertext}
	if err := st.putUnlessLive(ctx, item); err != nil {
		return fmt.Errorf("put request encryption key: %w", err)
	}
	return nil
}
