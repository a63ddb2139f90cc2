// Package events publishes exchange status changes: to EventBridge (PutEvents) in the cloud, to the log locally.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
)

// DefaultSource is the `source` of published events when none is configured.
const DefaultSource = "sdjwt-issuer"

// Client is the part of the EventBridge API the publisher uses.
type Client interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// EventBridge publishes events to one bus with one source.
type EventBridge struct {
	client Client
	bus    string
	source string
}

// NewEventBridge builds a publisher to bus (name or ARN) with the given source ("" means DefaultSource).
func NewEventBridge(client Client, bus, source string) (*EventBridge, error) {
	if client == nil {
		return nil, errors.New("new EventBridge publisher: client is required")
	}
	if bus == "" {
		return nil, errors.New("new EventBridge publisher: bus name is required")
	}
	if source == "" {
		source = DefaultSource
	}
	return &EventBridge{client: client, bus: bus, source: source}, nil
}

// Publish implements exchange.EventPublisher with one PutEvents entry whose detail is the history record of
// e.Detail (shared/historyrecord); a failed entry is an error.
func (p *EventBridge) Publish(ctx context.Context, e exchange.Event) error {
	detail, err := json.Marshal(historyrecord.From(&e.Detail))
	if err != nil {
		return fmt.Errorf("publish %s: encode detail: %w", e.DetailType, err)
	}
	entry := types.PutEventsRequestEntry{EventBusName: aws.String(p.bus), Source: aws.String(p.source),
		DetailType: aws.String(e.DetailType), Detail: aws.String(string(detail)),
		Resources: []string{}}
	if !e.Time.IsZero() {
		entry.Time = aws.Time(e.Time)
	}
	out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry}})
	if err != nil {
		return fmt.Errorf("publish %s: %w", e.DetailType, err)
	}
	if out.FailedEntryCount > 0 {
		code := ""
		if len(out.Entries) > 0 {
			code = aws.ToString(out.Entries[0].ErrorCode)
		}
		return fmt.Errorf("publish %s: entry rejected (%s)", e.DetailType, code)
	}
	return nil
}

// Log publishes events to a logger only (used when EVENT_BUS_NAME is empty): one line with the detail-type and
// the exchange id, never the detail. It also keeps the last events in memory so local tests can read them back.
type Log struct {
	log  *slog.Logger
	keep int

	mu     sync.Mutex
	events []exchange.Event
}

// NewLog builds a logging publisher that remembers the last keep events (0: none).
func NewLog(log *slog.Logger, keep int) *Log {
	if log == nil {
		log = slog.Default()
	}
	return &Log{log: log, keep: keep}
}

// Publish implements exchange.EventPublisher.
func (p *Log) Publish(ctx context.Context, e exchange.Event) error {
	p.log.InfoContext(ctx, "event", slog.String("detail_type", e.DetailType),
		slog.String("credential_exchange_id", e.ExchangeID))
	if p.keep <= 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
	if over := len(p.events) - p.keep; over > 0 {
		p.events = append([]exchange.Event(nil), p.events[over:]...)
	}
	return nil
}

// Events returns the remembered events, oldest first.
func (p *Log) Events() []exchange.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]exchange.Event(nil), p.events...)
}
