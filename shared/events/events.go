// Package events publishes the events derived from committed writes (the publisher function,
// handlers.Publisher): to EventBridge (PutEvents) in the cloud, to the log locally.
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

// EventBridge PutEvents limits: entries per call and bytes per call.
const (
	MaxEntries    = 10
	MaxBatchBytes = 256 << 10
)

// Publisher publishes events in order. PublishAll returns one error per event: nil when the event was accepted.
// After the first failure nothing later is attempted (those events get ErrNotAttempted): the caller retries from
// the first failed event, so that the events of one exchange keep their order.
type Publisher interface {
	PublishAll(ctx context.Context, evs []exchange.Event) []error
}

// ErrNotAttempted is the error of an event PublishAll did not try because an earlier one failed.
var ErrNotAttempted = errors.New("not attempted: an earlier event of the batch failed")

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

// Entry is the PutEvents entry of e: detail-type, source, bus, time and the detail (historyrecord.EventOf).
func (p *EventBridge) Entry(e *exchange.Event) (types.PutEventsRequestEntry, error) {
	detail, err := json.Marshal(historyrecord.EventOf(e))
	if err != nil {
		return types.PutEventsRequestEntry{}, fmt.Errorf("publish %s: encode detail: %w", e.DetailType, err)
	}
	entry := types.PutEventsRequestEntry{EventBusName: aws.String(p.bus), Source: aws.String(p.source),
		DetailType: aws.String(e.DetailType), Detail: aws.String(string(detail)), Resources: []string{}}
	if !e.Time.IsZero() {
		entry.Time = aws.Time(e.Time)
	}
	return entry, nil
}

// entrySize is EventBridge's size of an entry: source, detail-type, detail and resources in UTF-8 bytes, plus
// 14 for the time.
func entrySize(e *types.PutEventsRequestEntry) int {
	n := len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	for _, r := range e.Resources {
		n += len(r)
	}
	if e.Time != nil {
		n += 14
	}
	return n
}

// PublishAll implements Publisher with as few PutEvents calls as the limits allow (MaxEntries entries,
// MaxBatchBytes bytes each), in order. A call that fails fails its entries; an entry EventBridge rejects
// (FailedEntryCount, the entry's ErrorCode) fails alone, and the entries after it in its call may have been
// accepted: the caller's retry then repeats them, which consumers tell by their version.
func (p *EventBridge) PublishAll(ctx context.Context, evs []exchange.Event) []error {
	errs := make([]error, len(evs))
	for i := range errs {
		errs[i] = ErrNotAttempted
	}
	for start := 0; start < len(evs); {
		var entries []types.PutEventsRequestEntry
		size, end := 0, start
		for end < len(evs) && len(entries) < MaxEntries {
			entry, err := p.Entry(&evs[end])
			if err != nil {
				if len(entries) == 0 {
					errs[end] = err
					return errs
				}
				break
			}
			n := entrySize(&entry)
			if len(entries) > 0 && size+n > MaxBatchBytes {
				break
			}
			size += n
			entries = append(entries, entry)
			end++
		}
		out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			for i := start; i < end; i++ {
				errs[i] = fmt.Errorf("publish %s: %w", evs[i].DetailType, err)
			}
			return errs
		}
		failed := false
		for i := start; i < end; i++ {
			errs[i] = nil
			if k := i - start; out.FailedEntryCount > 0 && (k >= len(out.Entries) || out.Entries[k].ErrorCode != nil) {
				code := "no result entry"
				if k < len(out.Entries) {
					code = aws.ToString(out.Entries[k].ErrorCode)
				}
				errs[i] = fmt.Errorf("publish %s: entry rejected (%s)", evs[i].DetailType, code)
				failed = true
			}
		}
		if failed {
			return errs
		}
		start = end
	}
	return errs
}

// Log publishes events to a logger only (used when EVENT_BUS_NAME is empty): one line per event with the
// detail-type, the exchange id and the version, never the detail. It also keeps the last events in memory so
// local tests can read them back.
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

// PublishAll implements Publisher; it never fails.
func (p *Log) PublishAll(ctx context.Context, evs []exchange.Event) []error {
	for _, e := range evs {
		p.log.InfoContext(ctx, "event", slog.String("detail_type", e.DetailType),
			slog.String("credential_exchange_id", e.ExchangeID), slog.Int64("version", e.Detail.Version))
	}
	if p.keep > 0 {
		p.mu.Lock()
		p.events = append(p.events, evs...)
		if over := len(p.events) - p.keep; over > 0 {
			p.events = append([]exchange.Event(nil), p.events[over:]...)
		}
		p.mu.Unlock()
	}
	return make([]error, len(evs))
}

// Events returns the remembered events, oldest first.
func (p *Log) Events() []exchange.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]exchange.Event(nil), p.events...)
}
