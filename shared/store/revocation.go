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
	"github.com/sdjwt-issuer/issuer/shared/revocation"
)

// The revocation item of an exchange (revocation.Record, docs/status-lists.md):
//
//	REVOCATION#<exchangeId> / REVOCATION   definitionId, revocationStatus, entries (list of {list, idx}),
//	                                       version, updatedAt, ttl (absent when the credentials have no exp),
//	                                       recordWritten, recordVersion (the event of the write: ChangeOf)
//
// It is written with the issuance (UpdateExchange, from revocation.OnIssue) and by revocation status
// changes (CommitRevocation). DeleteExchange does not delete it: it is not one of the record's pointers, and
// the credentials it lets the organisation revoke are still out there. It holds no claims, tokens or keys.
const (
	prefixRevocation = "REVOCATION#"
	skRevocation     = "REVOCATION"

	attrDefinitionID     = "definitionId"
	attrRevocationStatus = "revocationStatus"
	attrEntries          = "entries"
	attrUpdatedAt        = "updatedAt"
	attrEntryList        = "list"
	attrEntryIdx         = "idx"
	attrRecordWritten    = "recordWritten"
	attrRecordVersion    = "recordVersion"
)

func revocationKey(exchangeID string) map[string]types.AttributeValue {
	return key(prefixRevocation+exchangeID, skRevocation)
}

// revocationItem is the item of r.
func revocationItem(r revocation.Record) (map[string]types.AttributeValue, error) {
	if r.ExchangeID == "" {
		return nil, errors.New("revocation item: no exchange id")
	}
	if len(r.Entries) == 0 {
		return nil, errors.New("revocation item: no status entries")
	}
	entries := make([]types.AttributeValue, len(r.Entries))
	for i, e := range r.Entries {
		entries[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			attrEntryList: s(e.List), attrEntryIdx: n(int64(e.Index))}}
	}
	item := revocationKey(r.ExchangeID)
	item[attrDefinitionID] = s(r.DefinitionID)
	item[attrRevocationStatus] = s(string(r.RevocationStatus))
	item[attrEntries] = &types.AttributeValueMemberL{Value: entries}
	item[attrVersion] = n(r.Version)
	item[attrUpdatedAt] = n(r.UpdatedAt)
	item[attrRecordWritten] = &types.AttributeValueMemberBOOL{Value: r.RecordWritten}
	item[attrRecordVersion] = n(r.RecordVersion)
	if r.ExpiresAt > 0 {
		item[AttrTTL] = n(r.ExpiresAt)
	}
	return item, nil
}

// revocationFrom decodes a revocation item.
func revocationFrom(item map[string]types.AttributeValue) (revocation.Record, error) {
	pk := str(item, AttrPK)
	if len(pk) <= len(prefixRevocation) {
		return revocation.Record{}, fmt.Errorf("decode revocation item: malformed key")
	}
	r := revocation.Record{ExchangeID: pk[len(prefixRevocation):], DefinitionID: str(item, attrDefinitionID),
		RevocationStatus: exchange.RevocationStatus(str(item, attrRevocationStatus)), Version: num(item, attrVersion),
		UpdatedAt: num(item, attrUpdatedAt), ExpiresAt: num(item, AttrTTL), RecordVersion: num(item, attrRecordVersion)}
	if b, ok := item[attrRecordWritten].(*types.AttributeValueMemberBOOL); ok {
		r.RecordWritten = b.Value
	}
	l, ok := item[attrEntries].(*types.AttributeValueMemberL)
	if !ok || len(l.Value) == 0 {
		return revocation.Record{}, fmt.Errorf("decode revocation item of exchange %s: no entries", r.ExchangeID)
	}
	r.Entries = make([]exchange.StatusEntry, len(l.Value))
	for i, v := range l.Value {
		var entry map[string]types.AttributeValue
		if m, ok := v.(*types.AttributeValueMemberM); ok {
			entry = m.Value
		}
		idx, err := strconv.Atoi(numText(entry, attrEntryIdx))
		if err != nil || idx < 0 || str(entry, attrEntryList) == "" {
			return revocation.Record{}, fmt.Errorf("decode revocation item of exchange %s: malformed entry %d",
				r.ExchangeID, i)
		}
		r.Entries[i] = exchange.StatusEntry{List: str(entry, attrEntryList), Index: idx}
	}
	return r, nil
}

// revocationOnIssue is the write of the revocation item that joins an issuing exchange update (see
// revocation.OnIssue), or nil for any other update. The item must not exist yet: an exchange is issued
// once, and exchange ids are random.
func (st *Store) revocationOnIssue(rec *exchange.Record, expect exchange.Expect) (*types.TransactWriteItem, error) {
	r, ok := revocation.OnIssue(rec, expect.Status)
	if !ok {
		return nil, nil
	}
	item, err := revocationItem(r)
	if err != nil {
		return nil, fmt.Errorf("update exchange: %w", err)
	}
	w := st.putNew(item)
	return &w, nil
}

// GetRevocation implements revocation.Store: a strongly consistent read of the revocation item; an
// absent or expired one is exchange.ErrNotFound.
func (st *Store) GetRevocation(ctx context.Context, exchangeID string) (revocation.Record, error) {
	item, err := st.get(ctx, prefixRevocation+exchangeID, skRevocation)
	if err != nil {
		if errors.Is(err, exchange.ErrNotFound) {
			return revocation.Record{}, err
		}
		return revocation.Record{}, fmt.Errorf("get revocation item: %w", err)
	}
	return revocationFrom(item)
}

// CommitRevocation implements revocation.Store with one TransactWriteItems: the revocation item (under
// the version read and not expired, or new), the exchange record when it still exists (version, same status,
// not expired) and each list (SET bits, lst, version+1 under the version read).
func (st *Store) CommitRevocation(ctx context.Context, c revocation.Commit) error {
	if len(c.Lists)+2 > maxTransactItems {
		return fmt.Errorf("commit revocation: %d lists exceed one transaction", len(c.Lists))
	}
	now := n(st.now().Unix())
	rev := c.Revocation
	item, err := revocationItem(rev)
	if err != nil {
		return fmt.Errorf("commit revocation: %w", err)
	}
	put := &types.Put{TableName: aws.String(st.table), Item: item,
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#ttl": AttrTTL}}
	if c.Create {
		put.ConditionExpression = aws.String("attribute_not_exists(#pk) OR #ttl <= :now")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":now": now}
	} else {
		put.ConditionExpression = aws.String("attribute_exists(#pk) AND #version = :v AND " + notExpired)
		put.ExpressionAttributeNames["#version"] = attrVersion
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": n(rev.Version - 1), ":now": now}
	}
	writes := []types.TransactWriteItem{{Put: put}}
	if c.Record != nil {
		rec := *c.Record
		if rec.Status != c.Expect.Status {
			return fmt.Errorf("commit revocation: the exchange status must not change (%s -> %s)", c.Expect.Status, rec.Status)
		}
		if rec.CredentialExchangeID != rev.ExchangeID {
			return errors.New("commit revocation: the record and the revocation item are of different exchanges")
		}
		rec.Version = c.Expect.Version + 1
		recItem, err := exchangeItem(&rec)
		if err != nil {
			return fmt.Errorf("commit revocation: %w", err)
		}
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.table), Item: recItem,
			ConditionExpression: aws.String("attribute_exists(#pk) AND #version = :v AND #status = :s AND " + notExpired),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#version": attrVersion, "#status": attrStatus,
				"#ttl": AttrTTL},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": n(c.Expect.Version),
				":s": s(string(c.Expect.Status)), ":now": now}}})
	}
	for _, l := range c.Lists {
		if l.List == nil {
			return fmt.Errorf("commit revocation: list %s has no statuses", l.ID)
		}
		cond := "#version = :v"
		if l.Version == 0 {
			cond = "attribute_not_exists(#version)"
		}
		values := map[string]types.AttributeValue{":bits": n(int64(l.List.Bits())), ":lst": s(l.List.Encode()),
			":nv": n(l.Version + 1)}
		if l.Version != 0 {
			values[":v"] = n(l.Version)
		}
		writes = append(writes, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(st.table),
			Key:                       key(statusListPK(l.ID), skStatusList),
			UpdateExpression:          aws.String("SET #bits = :bits, #lst = :lst, #version = :nv"),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  map[string]string{"#bits": attrBits, "#lst": attrLST, "#version": attrVersion},
			ExpressionAttributeValues: values}})
	}
	_, err = st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if _, ok := cancelled(err); ok {
		return exchange.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("commit revocation: %w", err)
	}
	return nil
}
