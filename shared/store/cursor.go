package store

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// cursor is the LastEvaluatedKey of a GSI query: the table keys and the index keys, all strings.
type cursor struct {
	PK  string `json:"p"`
	SK  string `json:"s"`
	GPK string `json:"gp"`
	GSK string `json:"gs"`
}

// maxCursorLen bounds a cursor before it is decoded.
const maxCursorLen = 2048

// encodeCursor makes the opaque cursor of the item a page ended with.
func encodeCursor(item map[string]types.AttributeValue, gpkAttr, gskAttr string) string {
	c := cursor{PK: str(item, AttrPK), SK: str(item, AttrSK), GPK: str(item, gpkAttr), GSK: str(item, gskAttr)}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor validates a cursor for a query of the partition gpk with items whose pk starts with pkPrefix,
// and returns the ExclusiveStartKey; anything else is exchange.ErrInvalidCursor.
func decodeCursor(raw, gpk, pkPrefix, sk, gpkAttr, gskAttr string) (map[string]types.AttributeValue, error) {
	if raw == "" {
		return nil, nil
	}
	if len(raw) > maxCursorLen {
		return nil, exchange.ErrInvalidCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, exchange.ErrInvalidCursor
	}
	var c cursor
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() {
		return nil, exchange.ErrInvalidCursor
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, exchange.ErrInvalidCursor
	}
	if c.GPK != gpk || c.SK != sk || !strings.HasPrefix(c.PK, pkPrefix) || len(c.PK) == len(pkPrefix) ||
		!validSortKey(c.GSK) {
		return nil, exchange.ErrInvalidCursor
	}
	return map[string]types.AttributeValue{AttrPK: s(c.PK), AttrSK: s(c.SK), gpkAttr: s(c.GPK), gskAttr: s(c.GSK)}, nil
}

// validSortKey accepts what sortKey produces (20 digits, '#', an id) or a plain id (dynamic configurations).
func validSortKey(k string) bool {
	return k != "" && len(k) <= 300
}
