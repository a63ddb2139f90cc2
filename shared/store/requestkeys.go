package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/requestkeys"
)

var _ requestkeys.Store = (*Store)(nil)

// Encryption key items: pk <PURPOSE>KEY#<period>, sk <PURPOSE>KEY (REQKEY for credential request encryption,
// VPRKEY for OpenID4VP response encryption); kid, the public JWK (JSON) and the KMS ciphertext of the private key
// (never the key itself); ttl when the key stops decrypting.
const (
	attrKeyID          = "kid"
	attrPublicJWK      = "publicJwk"
	attrWrappedPrivate = "wrappedPrivateKey"
)

// KeyItems are the encryption key items of one purpose: a requestkeys.Store.
type KeyItems struct {
	st     *Store
	pk, sk string
}

// KeysOf is the requestkeys.Store of a purpose's keys (the Store itself is that of credential request keys).
func (st *Store) KeysOf(p requestkeys.Purpose) KeyItems {
	kind := strings.ToUpper(p.KidPrefix) + "KEY"
	return KeyItems{st: st, pk: kind + "#", sk: kind}
}

// GetRequestKey implements requestkeys.Store for credential request encryption keys.
func (st *Store) GetRequestKey(ctx context.Context, period int64) (requestkeys.Record, error) {
	return st.KeysOf(requestkeys.CredentialRequests).GetRequestKey(ctx, period)
}

// PutRequestKey implements requestkeys.Store for credential request encryption keys.
func (st *Store) PutRequestKey(ctx context.Context, r requestkeys.Record) error {
	return st.KeysOf(requestkeys.CredentialRequests).PutRequestKey(ctx, r)
}

// GetRequestKey implements requestkeys.Store (a strongly consistent read; expired is exchange.ErrNotFound).
func (k KeyItems) GetRequestKey(ctx context.Context, period int64) (requestkeys.Record, error) {
	item, err := k.st.get(ctx, k.pk+strconv.FormatInt(period, 10), k.sk)
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
func (k KeyItems) PutRequestKey(ctx context.Context, r requestkeys.Record) error {
	item := key(k.pk+strconv.FormatInt(r.Period, 10), k.sk)
	item[attrKeyID], item[attrPublicJWK], item[AttrTTL] = s(r.KeyID), s(string(r.PublicJWK)), n(r.ExpiresAt)
	item[attrWrappedPrivate] = &types.AttributeValueMemberB{Value: r.Ciphertext}
	if err := k.st.putUnlessLive(ctx, item); err != nil {
		return fmt.Errorf("put request encryption key: %w", err)
	}
	return nil
}
