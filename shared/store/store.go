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
	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// Client is the part of the DynamoDB API the store uses (a *dynamodb.Client in production).
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Item attributes beyond the keys.
const (
	attrData       = "data"
	attrVersion    = "version"
	attrStatus     = "status"
	attrExchangeID = "exchangeId"
	attrAttributes = "attributes"
	// attrCreatedNanos keeps a definition's creation order across replaces.
	attrCreatedNanos = "createdNanos"
)

// Key prefixes and sort keys of the item kinds.
const (
	prefixDefinition = "DEF#"
	prefixExchange   = "EXCHANGE#"
	prefixIndividual = "INDIVIDUAL#"
	prefixDynConfig  = "DYNCONFIG#"
	// prefixPresentationDef: presentation definitions (PRESDEF#<id> / PRESDEF, gsi1 PRESDEF).
	prefixPresentationDef = "PRESDEF#"
	skPresentationDef     = "PRESDEF"
	kindPresentationDef   = "PRESDEF"
	skDefinition          = "DEF"
	skExchange            = "EXCHANGE"
	skIndividual          = "INDIVIDUAL"
	skDynConfig           = "DYNCONFIG"
	skPointer             = "PTR"
	kindDefinition        = "DEF"
	kindExchange          = "EXCHANGE"
	kindDynConfig         = "DYNCONFIG"
	statusPartition       = "EXCHANGE#STATUS#"
	defPartition          = "EXCHANGE#DEF#"
)

// maxTransactItems is DynamoDB's limit of items per TransactWriteItems.
const maxTransactItems = 100

// Store is the DynamoDB implementation of issuance's store interfaces over one table.
type Store struct {
	db    Client
	table string
	now   func() time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that decides which items have expired (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New builds a store over table with a client built once per cold start.
func New(db Client, table string, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("new store: DynamoDB client is required")
	}
	if table == "" {
		return nil, errors.New("new store: table name is required")
	}
	s := &Store{db: db, table: table, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

var _ admin.Store = (*Store)(nil)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: s(pk), AttrSK: s(sk)}
}

func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		i, err := strconv.ParseInt(v.Value, 10, 64)
		if err == nil {
			return i
		}
	}
	return 0
}

// live reports whether an item exists and its ttl (if any) has not passed: DynamoDB deletes expired items late,
// so every read checks.
func (st *Store) live(item map[string]types.AttributeValue) bool {
	if item == nil {
		return false
	}
	if _, ok := item[AttrTTL]; !ok {
		return true
	}
	return num(item, AttrTTL) > st.now().Unix()
}

// get reads one item with strong consistency; an absent or expired item is exchange.ErrNotFound.
func (st *Store) get(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.table), Key: key(pk, sk),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get item: %w", err)
	}
	if !st.live(out.Item) {
		return nil, exchange.ErrNotFound
	}
	return out.Item, nil
}

// notExpired is the condition part that treats an expired item as absent.
const notExpired = "(attribute_not_exists(#ttl) OR #ttl > :now)"

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// sortKey orders items newest first in the GSIs: zero-padded creation time, then the id for ties.
func sortKey(nanos int64, id string) string { return fmt.Sprintf("%020d#%s", nanos, id) }
