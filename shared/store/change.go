package store

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
)

// Change is one committed write of an item of the table as its stream reports it (old and new image), decoded
// when it is an item events are derived from: an exchange record or a revocation item. Other items (pointers,
// definitions, status lists, ...) are a Change with neither.
type Change struct {
	// Exchange holds the exchange record before and after the write (nil: absent), or nothing for other items.
	Exchange *ExchangeChange
	// Revocation holds the revocation item before and after the write (nil: absent), or nothing.
	Revocation *RevocationChange
}

// ExchangeChange is the exchange record before and after a write.
type ExchangeChange struct {
	Before, After *exchange.Record
}

// RevocationChange is the revocation item before and after a write.
type RevocationChange struct {
	Before, After *revocation.Record
}

// Events are the events the change calls for (exchange.ChangeEvents, revocation.ChangeEvents).
func (c Change) Events() []exchange.Event {
	switch {
	case c.Exchange != nil:
		return exchange.ChangeEvents(c.Exchange.Before, c.Exchange.After)
	case c.Revocation != nil:
		return revocation.ChangeEvents(c.Revocation.Before, c.Revocation.After)
	}
	return nil
}

// ChangeOf decodes a stream record's keys and images (either image may be empty: created, deleted). An item that
// cannot be decoded is an error naming its kind and key prefix, never its data.
func ChangeOf(keys, before, after map[string]types.AttributeValue) (Change, error) {
	pk := str(keys, AttrPK)
	switch sk := str(keys, AttrSK); {
	case strings.HasPrefix(pk, prefixExchange) && sk == skExchange:
		var c ExchangeChange
		for _, side := range []struct {
			item map[string]types.AttributeValue
			rec  **exchange.Record
		}{{before, &c.Before}, {after, &c.After}} {
			if len(side.item) == 0 {
				continue
			}
			rec, err := exchangeFrom(side.item)
			if err != nil {
				return Change{}, fmt.Errorf("decode the change of an exchange record: %w", err)
			}
			*side.rec = &rec
		}
		return Change{Exchange: &c}, nil
	case strings.HasPrefix(pk, prefixRevocation) && sk == skRevocation:
		var c RevocationChange
		for _, side := range []struct {
			item map[string]types.AttributeValue
			rec  **revocation.Record
		}{{before, &c.Before}, {after, &c.After}} {
			if len(side.item) == 0 {
				continue
			}
			rec, err := revocationFrom(side.item)
			if err != nil {
				return Change{}, fmt.Errorf("decode the change of a revocation item: %w", err)
			}
			*side.rec = &rec
		}
		return Change{Revocation: &c}, nil
	}
	return Change{}, nil
}
