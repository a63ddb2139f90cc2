package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

// Status list items (docs/status-lists.md). None of them has a ttl: a list must be served for as long as any
// credential referencing it is valid, which credentials without exp make forever; a list costs a few KB.
//
//	STATUSLIST#<listId> / COUNTER   next (sequence numbers handed out), key (the list's permutation key)
//	STATUSLIST#<listId> / LIST      bits, lst, version; token, tokenVersion, tokenIat, tokenExp, tokenTtl;
//	                                leaseUntil
//	STATUSLIST#SHARDS   / SHARD#<s> generation (the open list of shard s)
//
// The counter is the only item written per credential, and it stays under 1 KB (one write unit per
// allocation). The statuses are stored ZLIB-compressed (the token's own lst), so a status change writes a few
// KB, not the 32 KiB of the raw list.
const (
	prefixStatusList   = "STATUSLIST#"
	pkStatusListShards = "STATUSLIST#SHARDS"
	skStatusCounter    = "COUNTER"
	skStatusList       = "LIST"
	prefixShardHead    = "SHARD#"

	attrNext         = "next"
	attrListKey      = "key"
	attrBits         = "bits"
	attrLST          = "lst"
	attrToken        = "token"
	attrTokenVersion = "tokenVersion"
	attrTokenIat     = "tokenIat"
	attrTokenExp     = "tokenExp"
	attrTokenTTL     = "tokenTtl"
	attrTokenSub     = "tokenSub"
	attrLeaseUntil   = "leaseUntil"
	attrGeneration   = "generation"
)

var _ revocation.Store = (*Store)(nil)

func statusListPK(id statuslist.ListID) string { return prefixStatusList + id.String() }

func shardHeadSK(shard int) string { return prefixShardHead + strconv.Itoa(shard) }

func u64(v uint64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatUint(v, 10)}
}

// ReserveStatusEntry implements revocation.Store with one UpdateItem of the list's counter: ADD next 1
// under next < capacity; the permutation key is set by the first allocation (if_not_exists).
func (st *Store) ReserveStatusEntry(ctx context.Context, id statuslist.ListID, capacity int, proposedKey uint64) (int, uint64, error) {
	if capacity < 1 {
		return 0, 0, fmt.Errorf("reserve status entry of list %s: capacity %d", id, capacity)
	}
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(st.table),
		Key:                       key(statusListPK(id), skStatusCounter),
		UpdateExpression:          aws.String("ADD #next :one SET #key = if_not_exists(#key, :key)"),
		ConditionExpression:       aws.String("attribute_not_exists(#next) OR #next < :cap"),
		ExpressionAttributeNames:  map[string]string{"#next": attrNext, "#key": attrListKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":key": u64(proposedKey), ":cap": n(int64(capacity))},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return 0, 0, fmt.Errorf("reserve status entry of list %s: %w", id, revocation.ErrStatusListFull)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("reserve status entry of list %s: %w", id, err)
	}
	next := num(out.Attributes, attrNext)
	k, kerr := strconv.ParseUint(numText(out.Attributes, attrListKey), 10, 64)
	if next < 1 || next > int64(capacity) || kerr != nil {
		return 0, 0, fmt.Errorf("reserve status entry of list %s: malformed counter item", id)
	}
	return int(next - 1), k, nil
}

func numText(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

// ShardGenerations implements revocation.Store with one Query of the shard heads' partition (a shard
// without a head is at generation 0).
func (st *Store) ShardGenerations(ctx context.Context, shards int) ([]int, error) {
	gens := make([]int, shards)
	in := &dynamodb.QueryInput{TableName: aws.String(st.table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pkStatusListShards)}}
	for {
		out, err := st.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read status list shard heads: %w", err)
		}
		for _, item := range out.Items {
			sh, err := strconv.Atoi(str(item, AttrSK)[len(prefixShardHead):])
			if err != nil || sh < 0 {
				return nil, fmt.Errorf("read status list shard heads: malformed head %q", str(item, AttrSK))
			}
			if sh < shards {
				gens[sh] = int(num(item, attrGeneration))
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return gens, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// AdvanceShard implements revocation.Store: SET generation = from+1 under generation = from; when
// someone else moved the head already, the head is read and returned.
func (st *Store) AdvanceShard(ctx context.Context, shard, from int) (int, error) {
	cond := "#gen = :from"
	if from == 0 {
		cond = "attribute_not_exists(#gen) OR #gen = :from"
	}
	k := key(pkStatusListShards, shardHeadSK(shard))
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(st.table), Key: k,
		UpdateExpression:          aws.String("SET #gen = :to"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#gen": attrGeneration},
		ExpressionAttributeValues: map[string]types.AttributeValue{":from": n(int64(from)), ":to": n(int64(from + 1))},
	})
	if err == nil {
		return from + 1, nil
	}
	if !isConditionFailed(err) {
		return 0, fmt.Errorf("advance status list shard %d: %w", shard, err)
	}
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.table), Key: k,
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("advance status list shard %d: %w", shard, err)
	}
	return int(num(out.Item, attrGeneration)), nil
}

// GetStatusList implements revocation.Store (strongly consistent read of the list item).
func (st *Store) GetStatusList(ctx context.Context, id statuslist.ListID, layout statuslist.Layout) (revocation.StatusListState, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.table),
		Key: key(statusListPK(id), skStatusList), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("#bits, #lst, #version"),
		ExpressionAttributeNames: map[string]string{"#bits": attrBits, "#lst": attrLST, "#version": attrVersion}})
	if err != nil {
		return revocation.StatusListState{}, fmt.Errorf("get status list %s: %w", id, err)
	}
	state := revocation.StatusListState{ID: id, Version: num(out.Item, attrVersion)}
	lst := str(out.Item, attrLST)
	if lst == "" {
		state.List, err = layout.NewList()
		if err != nil {
			return revocation.StatusListState{}, fmt.Errorf("get status list %s: %w", id, err)
		}
		return state, nil
	}
	bits := int(num(out.Item, attrBits))
	state.List, err = statuslist.Decode(bits, lst, statuslist.WithMaxBytes(max(layout.ListBytes(), 1)))
	if err != nil {
		return revocation.StatusListState{}, fmt.Errorf("get status list %s: %w", id, err)
	}
	if state.List.Len() != layout.Capacity || bits != layout.Bits {
		return revocation.StatusListState{}, fmt.Errorf("get status list %s: stored with %d entries of %d bits, "+
			"the layout has %d of %d", id, state.List.Len(), bits, layout.Capacity, layout.Bits)
	}
	return state, nil
}

// GetStatusListToken implements revocation.Store: the list item (strongly consistent); when there is
// none, the counter tells whether the list was ever opened.
func (st *Store) GetStatusListToken(ctx context.Context, id statuslist.ListID) (revocation.StatusListRead, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.table),
		Key: key(statusListPK(id), skStatusList), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#version, #token, #tv, #iat, #exp, #ttl, #sub"),
		ExpressionAttributeNames: map[string]string{"#version": attrVersion, "#token": attrToken,
			"#tv": attrTokenVersion, "#iat": attrTokenIat, "#exp": attrTokenExp, "#ttl": attrTokenTTL, "#sub": attrTokenSub}})
	if err != nil {
		return revocation.StatusListRead{}, fmt.Errorf("get status list token %s: %w", id, err)
	}
	if out.Item == nil {
		c, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.table),
			Key: key(statusListPK(id), skStatusCounter), ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String("#next"), ExpressionAttributeNames: map[string]string{"#next": attrNext}})
		if err != nil {
			return revocation.StatusListRead{}, fmt.Errorf("get status list token %s: %w", id, err)
		}
		return revocation.StatusListRead{Exists: c.Item != nil}, nil
	}
	return revocation.StatusListRead{Exists: true, ListVersion: num(out.Item, attrVersion),
		Token: revocation.StoredStatusToken{Token: str(out.Item, attrToken), Version: num(out.Item, attrTokenVersion),
			IssuedAt: num(out.Item, attrTokenIat), ExpiresAt: num(out.Item, attrTokenExp), TTL: num(out.Item, attrTokenTTL),
			Subject: str(out.Item, attrTokenSub)}}, nil
}

// ClaimStatusListSigning implements revocation.Store: SET leaseUntil under no lease or an expired one.
func (st *Store) ClaimStatusListSigning(ctx context.Context, id statuslist.ListID, now, until time.Time) (bool, error) {
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(st.table),
		Key:                       key(statusListPK(id), skStatusList),
		UpdateExpression:          aws.String("SET #lease = :until"),
		ConditionExpression:       aws.String("attribute_not_exists(#lease) OR #lease <= :now"),
		ExpressionAttributeNames:  map[string]string{"#lease": attrLeaseUntil},
		ExpressionAttributeValues: map[string]types.AttributeValue{":until": n(until.Unix()), ":now": n(now.Unix())}})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim status list %s signing: %w", id, err)
	}
	return true, nil
}

// PutStatusListToken implements revocation.Store: SET the token attributes (and release the lease)
// unless a token of a newer list version, or of the same version expiring no earlier, is stored.
func (st *Store) PutStatusListToken(ctx context.Context, id statuslist.ListID, tok revocation.StoredStatusToken) error {
	if tok.Token == "" {
		return errors.New("put status list token: empty token")
	}
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(st.table),
		Key:              key(statusListPK(id), skStatusList),
		UpdateExpression: aws.String("SET #token = :token, #tv = :tv, #iat = :iat, #exp = :exp, #ttl = :ttl, #sub = :sub REMOVE #lease"),
		// A token for another issuer URL (sub) is replaced even when it expires later: it is of no use here.
		ConditionExpression: aws.String("attribute_not_exists(#tv) OR #tv < :tv OR (#tv = :tv AND " +
			"(attribute_not_exists(#exp) OR #exp < :exp OR attribute_not_exists(#sub) OR #sub <> :sub))"),
		ExpressionAttributeNames: map[string]string{"#token": attrToken, "#tv": attrTokenVersion, "#iat": attrTokenIat,
			"#exp": attrTokenExp, "#ttl": attrTokenTTL, "#sub": attrTokenSub, "#lease": attrLeaseUntil},
		ExpressionAttributeValues: map[string]types.AttributeValue{":token": s(tok.Token), ":tv": n(tok.Version),
			":iat": n(tok.IssuedAt), ":exp": n(tok.ExpiresAt), ":ttl": n(tok.TTL), ":sub": s(tok.Subject)}})
	if isConditionFailed(err) {
		return exchange.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("put status list token %s: %w", id, err)
	}
	return nil
}
