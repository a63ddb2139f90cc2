package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// exchangeItem is the item of a record: keys for the three GSIs (GSI3 only with a definition), status, version
// and ttl as top-level attributes for conditions, and the record itself as JSON.
func exchangeItem(rec *exchange.Record) (map[string]types.AttributeValue, error) {
	data, err := MarshalExchange(rec)
	if err != nil {
		return nil, err
	}
	nanos := rec.CreatedNanos
	if nanos == 0 {
		nanos = rec.CreatedAt * 1e9
	}
	order := sortKey(nanos, rec.CredentialExchangeID)
	item := map[string]types.AttributeValue{
		AttrPK: s(prefixExchange + rec.CredentialExchangeID), AttrSK: s(skExchange),
		AttrTTL:    n(rec.ExpiresAt),
		AttrGSI1PK: s(kindExchange), AttrGSI1SK: s(order),
		AttrGSI2PK: s(statusPartition + string(rec.Status)), AttrGSI2SK: s(order),
		attrStatus: s(string(rec.Status)), attrVersion: n(rec.Version),
		attrData: s(string(data)),
	}
	if rec.CredentialDefinitionID != "" {
		item[AttrGSI3PK] = s(defPartition + rec.CredentialDefinitionID)
		item[AttrGSI3SK] = s(order)
	}
	return item, nil
}

func exchangeFrom(item map[string]types.AttributeValue) (exchange.Record, error) {
	rec, err := UnmarshalExchange([]byte(str(item, attrData)))
	if err != nil {
		return rec, err
	}
	rec.Version = num(item, attrVersion)
	return rec, nil
}

func pointerItem(p exchange.Pointer) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{AttrPK: s(p.Key), AttrSK: s(skPointer), AttrTTL: n(p.ExpiresAt),
		attrExchangeID: s(p.ExchangeID)}
	if len(p.Attributes) > 0 {
		m := make(map[string]types.AttributeValue, len(p.Attributes))
		for k, v := range p.Attributes {
			m[k] = s(v)
		}
		item[attrAttributes] = &types.AttributeValueMemberM{Value: m}
	}
	return item
}

func (st *Store) putNew(item map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": AttrPK}}}
}

// CreateExchange implements admin.ExchangeStore: the record and its pointers in one transaction, none of
// which may exist yet, consuming the pointers named by consume (each must exist unexpired and belong to no
// exchange or to this one: a wallet-initiated exchange consumes its authorization session). A consumed pointer that
// was gone is ErrConflict wrapping *exchange.PointerGoneError.
func (st *Store) CreateExchange(ctx context.Context, rec exchange.Record, pointers []exchange.Pointer, consume ...string) error {
	if len(pointers)+len(consume)+1 > maxTransactItems {
		return fmt.Errorf("create exchange: %d pointers exceed one transaction", len(pointers)+len(consume))
	}
	item, err := exchangeItem(&rec)
	if err != nil {
		return err
	}
	ops := []types.TransactWriteItem{st.putNew(item)}
	for _, p := range pointers {
		ops = append(ops, st.putNew(pointerItem(p)))
	}
	for _, key := range consume {
		ops = append(ops, st.consumeItem(key, rec.CredentialExchangeID))
	}
	_, err = st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
	if failed, ok := cancelled(err); ok {
		if gone := consumedPointer(ops, failed); gone != nil {
			return fmt.Errorf("create exchange: %w: %w", exchange.ErrConflict, gone)
		}
		if len(failed) > 0 {
			return exchange.ErrAlreadyExists
		}
		return exchange.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("create exchange: %w", err)
	}
	return nil
}

// cancelled reports a cancelled transaction and the indexes of the items whose condition failed.
func cancelled(err error) ([]int, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	var failed []int
	for i, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			failed = append(failed, i)
		}
	}
	return failed, true
}

// GetExchange implements admin.ExchangeStore.
func (st *Store) GetExchange(ctx context.Context, id string) (exchange.Record, error) {
	item, err := st.get(ctx, prefixExchange+id, skExchange)
	if err != nil {
		return exchange.Record{}, err
	}
	return exchangeFrom(item)
}

// UpdateExchange implements admin.ExchangeStore. The status machine is in the condition itself: the stored
// status must be one of exchange.AllowedFrom(rec.Status) (or rec.Status when it does not change), the stored
// version must be expect.Version and the record must not have expired. Pointer ops join the same transaction.
func (st *Store) UpdateExchange(ctx context.Context, rec exchange.Record, expect exchange.Expect, ops ...exchange.PointerOp) error {
	from, err := exchange.WriteCondition(expect.Status, rec.Status)
	if err != nil {
		return err
	}
	rec.Version = expect.Version + 1
	for _, op := range ops {
		if op.Put != nil {
			rec.Pointers = append(rec.Pointers, op.Put.Key)
		}
	}
	item, err := exchangeItem(&rec)
	if err != nil {
		return err
	}
	names := map[string]string{"#pk": AttrPK, "#version": attrVersion, "#status": attrStatus, "#ttl": AttrTTL}
	values := map[string]types.AttributeValue{":v": n(expect.Version), ":now": n(st.now().Unix())}
	in := ""
	for i, f := range from {
		name := ":s" + strconv.Itoa(i)
		values[name] = s(string(f))
		if i > 0 {
			in += ", "
		}
		in += name
	}
	cond := "attribute_exists(#pk) AND #version = :v AND #status IN (" + in + ") AND " + notExpired
	put := &types.Put{TableName: aws.String(st.table), Item: item, ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values}
	revocation, err := st.revocationOnIssue(&rec, expect) // issuing writes also record the revocation item
	if err != nil {
		return err
	}
	if len(ops) == 0 && revocation == nil {
		_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item,
			ConditionExpression: put.ConditionExpression, ExpressionAttributeNames: put.ExpressionAttributeNames,
			ExpressionAttributeValues: put.ExpressionAttributeValues})
		if isConditionFailed(err) {
			return st.whyRefused(ctx, rec.CredentialExchangeID, expect, rec.Status)
		}
		if err != nil {
			return fmt.Errorf("update exchange: %w", err)
		}
		return nil
	}
	if len(ops)+2 > maxTransactItems {
		return fmt.Errorf("update exchange: %d pointer changes exceed one transaction", len(ops))
	}
	writes := []types.TransactWriteItem{{Put: put}}
	if revocation != nil {
		writes = append(writes, *revocation)
	}
	for _, op := range ops {
		switch {
		case op.Put != nil:
			writes = append(writes, st.putNew(pointerItem(*op.Put)))
		case op.Consume != "":
			writes = append(writes, st.consumeItem(op.Consume, rec.CredentialExchangeID))
		default:
			return errors.New("update exchange: empty pointer op")
		}
	}
	_, err = st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if failed, ok := cancelled(err); ok {
		if gone := consumedPointer(writes, failed); gone != nil {
			return fmt.Errorf("update exchange: %w: %w", exchange.ErrConflict, gone)
		}
		if len(failed) > 0 && failed[0] == 0 {
			return st.whyRefused(ctx, rec.CredentialExchangeID, expect, rec.Status)
		}
		return exchange.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("update exchange: %w", err)
	}
	return nil
}

// whyRefused tells apart the reasons a conditional record write failed: gone, moved to a status the machine
// does not allow to move on from, or a concurrent change.
func (st *Store) whyRefused(ctx context.Context, id string, expect exchange.Expect, to exchange.Status) error {
	cur, err := st.GetExchange(ctx, id)
	switch {
	case errors.Is(err, exchange.ErrNotFound):
		return exchange.RefusedWrite(nil, expect, to)
	case err != nil:
		return fmt.Errorf("update exchange: %w", err)
	}
	return exchange.RefusedWrite(&cur, expect, to)
}

// DeleteExchange implements admin.ExchangeStore: the record (conditional on the version read, so a pointer
// added meanwhile is not missed) and every pointer item in one transaction; pointers beyond one transaction's
// size are deleted one by one after it.
func (st *Store) DeleteExchange(ctx context.Context, id string) error {
	for attempt := 0; attempt < 3; attempt++ {
		out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.table),
			Key: key(prefixExchange+id, skExchange), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("delete exchange: %w", err)
		}
		if out.Item == nil {
			return exchange.ErrNotFound
		}
		expired := !st.live(out.Item)
		rec, err := exchangeFrom(out.Item)
		if err != nil {
			return err
		}
		writes := []types.TransactWriteItem{{Delete: &types.Delete{TableName: aws.String(st.table),
			Key: key(prefixExchange+id, skExchange), ConditionExpression: aws.String("#version = :v"),
			ExpressionAttributeNames:  map[string]string{"#version": attrVersion},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": n(rec.Version)}}}}
		ptrs := rec.Pointers
		for len(writes) < maxTransactItems && len(ptrs) > 0 {
			writes = append(writes, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.table),
				Key: key(ptrs[0], skPointer)}})
			ptrs = ptrs[1:]
		}
		_, err = st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
		if _, ok := cancelled(err); ok {
			continue
		}
		if err != nil {
			return fmt.Errorf("delete exchange: %w", err)
		}
		if err := st.deletePointers(ctx, ptrs); err != nil {
			return err
		}
		if expired {
			// The record was past its retention: it is gone now, but for the caller it never existed.
			return exchange.ErrNotFound
		}
		return nil
	}
	return exchange.ErrConflict
}

// deletePointers deletes pointer items one by one (only for exchanges with more pointers than one transaction
// holds; DeleteItem keeps the functions' IAM policies to single-item actions).
func (st *Store) deletePointers(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if _, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.table), Key: key(k, skPointer)}); err != nil {
			return fmt.Errorf("delete exchange pointer: %w", err)
		}
	}
	return nil
}

// ListExchanges implements admin.ExchangeStore: GSI3 when filtering by definition (status as a filter),
// else GSI2 when filtering by status, else GSI1; newest first, never a Scan.
func (st *Store) ListExchanges(ctx context.Context, f exchange.Filter, page exchange.PageRequest) (exchange.Page[exchange.Record], error) {
	var out exchange.Page[exchange.Record]
	q := listQuery{index: IndexByKind, gpkAttr: AttrGSI1PK, gskAttr: AttrGSI1SK, gpk: kindExchange,
		pkPrefix: prefixExchange, sk: skExchange}
	switch {
	case f.CredentialDefinitionID != "":
		q.index, q.gpkAttr, q.gskAttr, q.gpk = IndexByDefinition, AttrGSI3PK, AttrGSI3SK, defPartition+f.CredentialDefinitionID
		if f.Status != "" {
			q.filterAttr, q.filterValue = attrStatus, string(f.Status)
		}
	case f.Status != "":
		q.index, q.gpkAttr, q.gskAttr, q.gpk = IndexByStatus, AttrGSI2PK, AttrGSI2SK, statusPartition+string(f.Status)
	}
	items, next, err := st.list(ctx, q, page)
	if err != nil {
		return out, err
	}
	out.NextCursor = next
	out.Items = make([]exchange.Record, 0, len(items))
	for _, it := range items {
		rec, err := exchangeFrom(it)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, rec)
	}
	return out, nil
}
