package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// EventBridge PutEvents limits.
const (
	maxPutEntries    = 10
	maxPutEventsSize = 256 << 10
	amzJSON          = "application/x-amz-json-1.1"
)

// RecordedEvent is one event put on the local bus, with what became of its deliveries.
type RecordedEvent struct {
	// EventBusName is the bus the producer named (the local gateway is one bus whatever the name).
	EventBusName string `json:"eventBusName"`
	// Event is the event as a rule's target receives it.
	Event events.CloudWatchEvent `json:"event"`
	// Deliveries has one entry per matching rule.
	Deliveries []Delivery `json:"deliveries"`
}

// Delivery is the state of one event's delivery to one rule's function.
type Delivery struct {
	// Function is the logical ID of the target function.
	Function string `json:"function"`
	// Rule is the name of the rule (the function's event name in the template).
	Rule string `json:"rule"`
	// Attempts counts the invocations so far.
	Attempts int `json:"attempts"`
	// Delivered is true once an invocation succeeded.
	Delivered bool `json:"delivered"`
	// Done is true when no further attempt will be made (delivered, retries exhausted or gateway closed).
	Done bool `json:"done"`
	// LastError is the error of the last failed attempt.
	LastError string `json:"lastError,omitempty"`
}

// putEventsRequest is the JSON 1.1 body of PutEvents as the AWS SDK sends it.
type putEventsRequest struct {
	Entries []putEventsEntry `json:"Entries"`
}

type putEventsEntry struct {
	Source       *string      `json:"Source"`
	DetailType   *string      `json:"DetailType"`
	Detail       *string      `json:"Detail"`
	EventBusName *string      `json:"EventBusName"`
	Resources    []string     `json:"Resources"`
	Time         *json.Number `json:"Time"`
	TraceHeader  *string      `json:"TraceHeader"`
}

type putEventsResultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

type putEventsResponse struct {
	FailedEntryCount int                    `json:"FailedEntryCount"`
	Entries          []putEventsResultEntry `json:"Entries"`
}

func (g *Gateway) serveEventBridge(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if target != PutEventsTarget {
		awsJSONError(w, http.StatusBadRequest, "UnknownOperationException",
			"the local event bus answers only "+PutEventsTarget)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4*maxPutEventsSize))
	if err != nil {
		awsJSONError(w, http.StatusRequestEntityTooLarge, "ValidationException", "request body too large")
		return
	}
	if !g.localAuthorized(r, body) {
		awsJSONError(w, http.StatusForbidden, "AccessDeniedException", "the local event bus needs the admin API key: "+
			"sign with it as the secret access key (AWS_SECRET_ACCESS_KEY), or send Authorization: ApiKey <key>")
		return
	}
	var req putEventsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		awsJSONError(w, http.StatusBadRequest, "SerializationException", "the request body is not valid JSON")
		return
	}
	if n := len(req.Entries); n < 1 || n > maxPutEntries {
		awsJSONError(w, http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and %d", maxPutEntries))
		return
	}
	if size := entriesSize(req.Entries); size > maxPutEventsSize {
		awsJSONError(w, http.StatusBadRequest, "ValidationException", "Total size of the entries in the request is over the limit.")
		return
	}
	resp := putEventsResponse{Entries: make([]putEventsResultEntry, 0, len(req.Entries))}
	for _, e := range req.Entries {
		res := g.putEvent(e)
		if res.ErrorCode != "" {
			resp.FailedEntryCount++
		}
		resp.Entries = append(resp.Entries, res)
	}
	out, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", amzJSON)
	w.Header().Set(RequestIDHeader, newID())
	_, _ = w.Write(out)
}

// entriesSize approximates EventBridge's entry size: the UTF-8 bytes of Source, DetailType, Detail and
// Resources, plus 14 bytes for a Time.
func entriesSize(entries []putEventsEntry) int {
	n := 0
	for _, e := range entries {
		for _, s := range []*string{e.Source, e.DetailType, e.Detail} {
			if s != nil {
				n += len(*s)
			}
		}
		for _, r := range e.Resources {
			n += len(r)
		}
		if e.Time != nil {
			n += 14
		}
	}
	return n
}

// putEvent validates, records and routes one entry.
func (g *Gateway) putEvent(e putEventsEntry) putEventsResultEntry {
	for _, f := range []struct {
		name string
		v    *string
	}{{"Source", e.Source}, {"DetailType", e.DetailType}, {"Detail", e.Detail}} {
		if f.v == nil || *f.v == "" {
			return putEventsResultEntry{ErrorCode: "InvalidArgument",
				ErrorMessage: fmt.Sprintf("Parameter %s is not valid. Reason: %s is a required argument.", f.name, f.name)}
		}
	}
	var detail map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*e.Detail), &detail); err != nil || detail == nil {
		return putEventsResultEntry{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed."}
	}
	when := g.now().UTC()
	if e.Time != nil {
		if t, ok := epochTime(*e.Time); ok {
			when = t
		}
	}
	bus := "default"
	if e.EventBusName != nil && *e.EventBusName != "" {
		bus = *e.EventBusName
	}
	resources := e.Resources
	if resources == nil {
		resources = []string{}
	}
	ev := events.CloudWatchEvent{
		Version: "0", ID: newID(), DetailType: *e.DetailType, Source: *e.Source, AccountID: g.accountID,
		Time: when.Truncate(time.Second), Region: g.region, Resources: resources, Detail: json.RawMessage(*e.Detail),
	}
	rec := &RecordedEvent{EventBusName: bus, Event: ev, Deliveries: []Delivery{}}
	for _, rule := range g.rules {
		if rule.pattern.matches(ev) {
			rec.Deliveries = append(rec.Deliveries, Delivery{Function: rule.FunctionLogicalID, Rule: rule.EventName})
		}
	}
	// The detail carries a record's data: only its type and source are logged.
	g.log.Info("local event bus: event", slog.String("event_id", ev.ID), slog.String("bus", bus),
		slog.String("source", ev.Source), slog.String("detail_type", ev.DetailType),
		slog.Int("targets", len(rec.Deliveries)))
	payload, err := json.Marshal(ev)
	if err != nil {
		return putEventsResultEntry{ErrorCode: "InternalException", ErrorMessage: "could not encode the event"}
	}
	g.mu.Lock()
	g.events = append(g.events, rec)
	if over := len(g.events) - g.maxEvents; over > 0 {
		g.events = append(g.events[:0:0], g.events[over:]...)
	}
	close(g.recorded)
	g.recorded = make(chan struct{})
	closed := g.closed
	if closed {
		for i := range rec.Deliveries {
			rec.Deliveries[i].Done = true
			rec.Deliveries[i].LastError = "not delivered: the local gateway is closed"
		}
	} else {
		g.pending += len(rec.Deliveries)
		g.inflight.Add(len(rec.Deliveries))
	}
	g.mu.Unlock()
	if !closed {
		for i := range rec.Deliveries {
			go g.deliver(rec, i, payload)
		}
	}
	return putEventsResultEntry{EventID: ev.ID}
}

// deliver invokes a rule's function with the event, asynchronously like EventBridge, retrying failures with
// doubling backoff up to the configured attempts.
func (g *Gateway) deliver(rec *RecordedEvent, i int, payload []byte) {
	defer g.inflight.Done()
	defer func() {
		g.mu.Lock()
		rec.Deliveries[i].Done = true
		g.pending--
		g.mu.Unlock()
	}()
	g.mu.Lock()
	d := rec.Deliveries[i]
	g.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-g.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := g.backoff
	for attempt := 1; attempt <= g.attempts; attempt++ {
		_, err := g.invoke(ctx, d.Function, newID(), payload)
		g.mu.Lock()
		rec.Deliveries[i].Attempts = attempt
		if err == nil {
			rec.Deliveries[i].Delivered = true
			rec.Deliveries[i].LastError = ""
		} else {
			rec.Deliveries[i].LastError = err.Error()
		}
		g.mu.Unlock()
		attrs := []any{slog.String("event_id", rec.Event.ID), slog.String("function", d.Function),
			slog.String("rule", d.Rule), slog.Int("attempt", attempt)}
		if err == nil {
			g.log.Info("local event bus: delivered", attrs...)
			return
		}
		attrs = append(attrs, slog.String("error", err.Error()))
		if attempt == g.attempts {
			g.log.Error("local event bus: delivery failed, giving up", attrs...)
			return
		}
		g.log.Warn("local event bus: delivery failed, will retry", append(attrs, slog.Duration("backoff", backoff))...)
		select {
		case <-time.After(backoff):
		case <-g.closing:
			return
		}
		backoff *= 2
	}
}

// Events returns a copy of the recorded events, oldest first.
func (g *Gateway) Events() []RecordedEvent {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]RecordedEvent, len(g.events))
	for i, e := range g.events {
		out[i] = *e
		out[i].Deliveries = append([]Delivery{}, e.Deliveries...)
	}
	return out
}

// WaitEvents blocks until done, called with the recorded events (oldest first) after each new one, reports true,
// or until ctx ends. It wakes on every recorded event: a test waits for what it expects instead of sleeping.
func (g *Gateway) WaitEvents(ctx context.Context, done func([]RecordedEvent) bool) error {
	for {
		g.mu.Lock()
		wake := g.recorded
		g.mu.Unlock()
		if done(g.Events()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for events: %w", ctx.Err())
		case <-wake:
		}
	}
}

// WaitIdle blocks until no event delivery is pending (delivered, or retries exhausted) or ctx ends.
func (g *Gateway) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		g.mu.Lock()
		n := g.pending
		g.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %d event deliveries: %w", n, ctx.Err())
		case <-t.C:
		}
	}
}

// Close stops retrying deliveries, cancels running ones and waits for them to return. Requests still served
// afterwards are answered, but events put afterwards are only recorded.
func (g *Gateway) Close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.closing)
	}
	g.mu.Unlock()
	g.inflight.Wait()
}

func (g *Gateway) serveRecordedEvents(w http.ResponseWriter, r *http.Request) {
	if !g.localAuthorized(r, nil) {
		w.Header().Set("WWW-Authenticate", `ApiKey realm="local"`)
		g.gatewayError(w, http.StatusUnauthorized, "UnauthorizedException",
			"the recorded events need the admin API key: send Authorization: ApiKey <key>")
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		g.gatewayError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use GET")
		return
	}
	out, err := json.Marshal(struct {
		Events []RecordedEvent `json:"events"`
	}{g.Events()})
	if err != nil {
		g.gatewayError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(out)
}

// awsJSONError answers an AWS JSON 1.1 protocol error, which the SDK decodes from __type and message.
func awsJSONError(w http.ResponseWriter, status int, errorType, message string) {
	out, _ := json.Marshal(map[string]string{"__type": errorType, "message": message})
	w.Header().Set("Content-Type", amzJSON)
	w.Header().Set("X-Amzn-ErrorType", errorType)
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// epochTime reads the SDK's timestamp encoding (epoch seconds, possibly fractional).
func epochTime(n json.Number) (time.Time, bool) {
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}
