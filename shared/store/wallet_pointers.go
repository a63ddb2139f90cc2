package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

var _ wallet.Store = (*Store)(nil)

// GetPointer implements wallet.Store: a strongly consistent read of the pointer item; an absent or
// expired pointer (DynamoDB deletes expired items late) is exchange.ErrNotFound.
func (st *Store) GetPointer(ctx context.Context, key string) (exchange.Pointer, error) {
	item, err := st.get(ctx, key, skPointer)
	if err != nil {
		if errors.Is(err, exchange.ErrNotFound) {
			return exchange.Pointer{}, err
		}
		return exchange.Pointer{}, fmt.Errorf("get pointer: %w", err)
	}
	return pointerFrom(item), nil
}

// PutPointer implements wallet.Store: a conditional put that refuses to overwrite a live pointer
// (exchange.ErrAlreadyExists); an expired leftover with the same key is replaced.
func (st *Store) PutPointer(ctx context.Context, p exchange.Pointer) error {
	if p.Key == "" {
		return fmt.Errorf("put pointer: empty key")
	}
	if err := st.putUnlessLive(ctx, pointerItem(p)); err != nil {
		return fmt.Errorf("put pointer: %w", err)
	}
	return nil
}

// WritePointers implements wallet.Store: pointer changes of no exchange write in one transaction (the
// authorization endpoint turns a pushed request into an authorization session). A consumed pointer must exist
// unexpired (whatever exchange it names); a put one must not exist. A consumed pointer that was gone is
// ErrConflict wrapping *exchange.PointerGoneError, a put one that existed ErrAlreadyExists.
func (st *Store) WritePointers(ctx context.Context, ops ...exchange.PointerOp) error {
	if len(ops) == 0 || len(ops) > maxTransactItems {
		return fmt.Errorf("write pointers: %d changes", len(ops))
	}
	writes := make([]types.TransactWriteItem, 0, len(ops))
	for _, op := range ops {
		switch {
		case op.Put != nil:
			writes = append(writes, st.putNew(pointerItem(*op.Put)))
		case op.Consume != "":
			writes = append(writes, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.table),
				Key: key(op.Consume, skPointer), ConditionExpression: aws.String("attribute_exists(#pk) AND #ttl > :now"),
				ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#ttl": AttrTTL},
				ExpressionAttributeValues: map[string]types.AttributeValue{":now": n(st.now().Unix())}}})
		default:
			return errors.New("write pointers: empty pointer op")
		}
	}
	_, err := st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if failed, ok := cancelled(err); ok {
		if gone := consumedPointer(writes, failed); gone != nil {
			return fmt.Errorf("write pointers: %w: %w", exchange.ErrConflict, gone)
		}
		if len(failed) > 0 {
			return exchange.ErrAlreadyExists
		}
		return exchange.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("write pointers: %w", err)
	}
	return nil
}

// putUnlessLive puts item unless a live item has its key (exchange.ErrAlreadyExists); an expired leftover is
// replaced.
func (st *Store) putUnlessLive(ctx context.Context, item map[string]types.AttributeValue) error {
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#ttl": AttrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": n(st.now().Unix())}})
	if isConditionFailed(err) {
		return exchange.ErrAlreadyExists
	}
	return err
}

// pointerFrom decodes a pointer item.
func pointerFrom(item map[string]types.AttributeValue) exchange.Pointer {
	p := exchange.Pointer{Key: str(item, AttrPK), ExchangeID: str(item, attrExchangeID), ExpiresAt: num(item, AttrTTL)}
	if m, ok := item[attrAttributes].(*types.AttributeValueMemberM); ok && len(m.Value) > 0 {
		p.Attributes = make(map[string]string, len(m.Value))
		for k := range m.Value {
			p.Attributes[k] = str(m.Value, k)
		}
	}
	return p
}

// consumeItem is the single-use delete of a pointer in an exchange write: the pointer must exist, be unexpired
// and belong to no exchange (a c_nonce of the nonce endpoint) or to exchangeID. This condition is the only
// check of a c_nonce: the credential request does not read the nonce first.
func (st *Store) consumeItem(pointerKey, exchangeID string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.table),
		Key:                      key(pointerKey, skPointer),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND #ttl > :now AND #eid IN (:none, :eid)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#ttl": AttrTTL, "#eid": attrExchangeID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": n(st.now().Unix()), ":none": s(""),
			":eid": s(exchangeID)}}}
}

// consumedPointer names the first pointer of a cancelled transaction whose consuming delete failed its
// condition (used, expired or of another exchange), nil when none did.
func consumedPointer(writes []types.TransactWriteItem, failed []int) *exchange.PointerGoneError {
	for _, i := range failed {
		if i < 0 || i >= len(writes) {
			continue
		}
		// A c_nonce's used-marker put under attribute_not_exists failed: the nonce was used.
		if put := writes[i].Put; put != nil && str(put.Item, AttrSK) == skPointer &&
			strings.HasPrefix(str(put.Item, AttrPK), exchange.PointerNonce+"#") {
			return &exchange.PointerGoneError{Key: str(put.Item, AttrPK)}
		}
		if writes[i].Delete == nil || str(writes[i].Delete.Key, AttrSK) != skPointer {
			continue
		}
		return &exchange.PointerGoneError{Key: str(writes[i].Delete.Key, AttrPK)}
	}
	return nil
}
