package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/sdjwt-issuer/issuer/infra/template"
)

// Defaults of the local event source mappings (the stream pollers).
const (
	// DefaultStreamRetryBackoff is the wait before retrying a failed batch; it doubles per retry up to
	// maxStreamRetryBackoff. Lambda waits longer; locally it keeps tests and demos quick.
	DefaultStreamRetryBackoff = 100 * time.Millisecond
	maxStreamRetryBackoff     = 2 * time.Second
	// streamIdleMin and streamIdleMax bound the wait between polls of a stream that had nothing new: short after
	// activity, up to Lambda's four polls a second when idle. FlushStreams and WaitEvents wake the poller at once.
	streamIdleMin = 10 * time.Millisecond
	streamIdleMax = 250 * time.Millisecond
)

// StreamsAPI is the DynamoDB Streams API the local event source mappings read with (*dynamodbstreams.Client).
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// StreamFailure is a batch a local event source mapping gave up on after its retries: what Lambda sends to the
// mapping's on-failure destination (the template's PublisherFailureQueue). Nothing of the records' data.
type StreamFailure struct {
	// Source is the mapping (template.StreamSource.Name); Destination its on-failure destination as written.
	Source, Destination string
	// Shard, FirstSequence and LastSequence locate the batch in the stream.
	Shard, FirstSequence, LastSequence string
	// Records is the batch's size; Attempts how often it was offered.
	Records, Attempts int
	// Reason is the last error.
	Reason string
}

// WithTableStream has the gateway emulate the template's DynamoDB stream event source mappings (sources,
// template.StreamSources) on the stream of the DynamoDB table tableName, read with clients built from cfg
// (DynamoDB Local's endpoint): it polls the stream shard by shard, filters the records with the mappings'
// FilterCriteria, and invokes the mapping's function with the DynamoDBEvent Lambda would send, batch by batch,
// honouring partial batch failures (the batch is retried from the first failed record), bisecting a batch whose
// invocation fails, retrying up to MaximumRetryAttempts and then recording the batch as a StreamFailure (logged
// as an error). A problem finding the stream is reported by Err.
func WithTableStream(cfg aws.Config, tableName string, sources []template.StreamSource) Option {
	return func(g *Gateway) {
		g.streamCfg, g.streamTable, g.streamSources = &cfg, tableName, sources
	}
}

// WithStreamCheckpoints keeps the stream positions in the file at path, so that a restart resumes after the last
// record whose batch was done and a write committed while the gateway was down is still delivered (make run).
// Without it every start reads the stream from the mappings' StartingPosition.
func WithStreamCheckpoints(path string) Option { return func(g *Gateway) { g.checkpointPath = path } }

// WithStreamRetryBackoff sets the wait before the first retry of a failed batch (DefaultStreamRetryBackoff).
func WithStreamRetryBackoff(d time.Duration) Option { return func(g *Gateway) { g.streamBackoff = d } }

// startStreams resolves the table's stream and starts one poller per mapping.
func (g *Gateway) startStreams() error {
	if g.streamCfg == nil || len(g.streamSources) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	desc, err := dynamodb.NewFromConfig(*g.streamCfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(g.streamTable)})
	if err != nil {
		return fmt.Errorf("stream of table %s: %w", g.streamTable, err)
	}
	arn := aws.ToString(desc.Table.LatestStreamArn)
	if arn == "" || desc.Table.StreamSpecification == nil || !aws.ToBool(desc.Table.StreamSpecification.StreamEnabled) {
		return fmt.Errorf("table %s has no stream: it must be created from store.TableDefinition", g.streamTable)
	}
	g.flushDDB = dynamodb.NewFromConfig(*g.streamCfg)
	g.flushKeys = nil
	for _, k := range desc.Table.KeySchema {
		if k.KeyType == dynamodbtypes.KeyTypeHash {
			g.flushKeys = append([]string{aws.ToString(k.AttributeName)}, g.flushKeys...)
		} else {
			g.flushKeys = append(g.flushKeys, aws.ToString(k.AttributeName))
		}
	}
	g.flushPrefix = streamMarkerPrefix + newID() + "#"
	var client StreamsAPI = dynamodbstreams.NewFromConfig(*g.streamCfg)
	if g.streamsWrap != nil {
		client = g.streamsWrap(client)
	}
	saved := g.loadCheckpoints()
	tables := map[string]bool{}
	for _, src := range g.streamSources {
		tables[src.Table] = true
	}
	if len(tables) != 1 {
		return fmt.Errorf("the stream sources read %d tables; the local gateway has one (%s)", len(tables), g.streamTable)
	}
	for _, src := range g.streamSources {
		p := &streamPoller{g: g, src: src, arn: arn, client: client, shards: map[string]*shardState{},
			kick: make(chan struct{}, 1), changed: make(chan struct{}), markers: map[string]bool{}}
		if cp, ok := saved[src.Name]; ok && cp.StreamARN == arn {
			for id, seq := range cp.Shards {
				p.shards[id] = &shardState{id: id, checkpoint: seq}
			}
			for _, id := range cp.Done {
				p.shards[id] = &shardState{id: id, ended: true, done: true}
			}
			p.resumed = true
		}
		g.pollers = append(g.pollers, p)
	}
	for _, p := range g.pollers {
		g.inflight.Add(1)
		go p.run()
	}
	return nil
}

// streamPoller is one event source mapping on the table's stream.
type streamPoller struct {
	g       *Gateway
	src     template.StreamSource
	arn     string
	client  StreamsAPI
	shards  map[string]*shardState
	resumed bool // positions came from the checkpoint file
	first   bool // the first pass is over (LATEST applies only to the shards found then)
	kick    chan struct{}

	mu      sync.Mutex
	changed chan struct{}   // closed (and replaced) when a pass finishes
	markers map[string]bool // FlushStreams markers this mapping is past
}

// shardState is a shard's position: the last sequence number whose batch is done (delivered, filtered out or
// given up on), the iterator after it, the records read but not done yet.
type shardState struct {
	id, parent string
	checkpoint string
	iterator   *string
	buffer     []streamtypes.Record
	attempts   int  // offers of the batch at the head of buffer
	limit      int  // its size when bisected; 0: the mapping's BatchSize
	closed     bool // DescribeStream reports the shard closed (an ending sequence number)
	ended      bool // the shard is closed and its last records are read
	done       bool // ... and delivered
}

// run polls until the gateway closes.
func (p *streamPoller) run() {
	defer p.g.inflight.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.g.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	idle := streamIdleMin
	for ctx.Err() == nil {
		progress, err := p.pass(ctx)
		p.mu.Lock()
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			p.g.log.Warn("local stream: poll failed, will retry", slog.String("source", p.src.Name),
				slog.String("error", err.Error()))
			idle = streamIdleMax
		}
		if progress {
			idle = streamIdleMin
			continue
		}
		select {
		case <-ctx.Done():
		case <-p.kick:
			idle = streamIdleMin
		case <-time.After(idle):
			idle = min(2*idle, streamIdleMax)
		}
	}
}

// wake makes the poller start a pass now.
func (p *streamPoller) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// pass reads every shard to its current end and delivers what it read; progress says that records were read.
func (p *streamPoller) pass(ctx context.Context) (progress bool, err error) {
	shards, err := p.describe(ctx)
	if err != nil {
		return false, err
	}
	for _, sh := range shards {
		st := p.shards[sh.id]
		if st == nil {
			st = &shardState{id: sh.id}
			p.shards[sh.id] = st
		}
		st.parent, st.closed = sh.parent, sh.closed
		if st.done {
			continue
		}
		if parent := p.shards[st.parent]; parent != nil && !parent.done {
			continue // a child shard waits until its parent is read to its end
		}
		read, err := p.drain(ctx, st)
		progress = progress || read
		if err != nil {
			return progress, err
		}
	}
	p.first = true
	return progress, nil
}

type shardInfo struct {
	id, parent string
	closed     bool
}

// describe lists the stream's shards, parents before children.
func (p *streamPoller) describe(ctx context.Context) ([]shardInfo, error) {
	var out []shardInfo
	var start *string
	for {
		d, err := p.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.arn),
			ExclusiveStartShardId: start})
		if err != nil {
			return nil, fmt.Errorf("describe stream: %w", err)
		}
		for _, s := range d.StreamDescription.Shards {
			closed := s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil
			out = append(out, shardInfo{id: aws.ToString(s.ShardId), parent: aws.ToString(s.ParentShardId), closed: closed})
		}
		start = d.StreamDescription.LastEvaluatedShardId
		if start == nil {
			break
		}
	}
	known := map[string]bool{}
	for _, s := range out {
		known[s.id] = true
	}
	// Order by lineage depth so that a parent always comes before its children.
	depth := func(s shardInfo) int {
		n := 0
		for parent := s.parent; known[parent] && n < len(out); n++ {
			for _, x := range out {
				if x.id == parent {
					parent = x.parent
					break
				}
			}
		}
		return n
	}
	sort.SliceStable(out, func(i, j int) bool { return depth(out[i]) < depth(out[j]) })
	return out, nil
}

// drain reads a shard until it has nothing new (or has ended) and delivers its records.
func (p *streamPoller) drain(ctx context.Context, st *shardState) (bool, error) {
	read := false
	for ctx.Err() == nil {
		if len(st.buffer) < p.src.BatchSize && !st.ended {
			n, err := p.read(ctx, st)
			if err != nil {
				return read, err
			}
			read = read || n > 0
			if n > 0 && len(st.buffer) < p.src.BatchSize {
				continue // fill the batch while there is more
			}
		}
		if len(st.buffer) == 0 {
			if st.ended {
				st.done = true
				p.save()
			}
			return read, nil
		}
		p.deliver(ctx, st)
	}
	return read, ctx.Err()
}

// read gets the next records of the shard into its buffer, opening an iterator where needed. A shard has ended
// only when DescribeStream reports it closed and a read finds no next iterator: DynamoDB Local also answers
// without a next iterator (and with other errors, "Invalid ShardId in ShardIterator" among them) for a shard that
// is open, so a missing iterator or a failed read of an open shard opens a new iterator after the last record
// read, on the next pass, instead of giving the shard up.
func (p *streamPoller) read(ctx context.Context, st *shardState) (int, error) {
	if st.iterator == nil {
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.arn), ShardId: aws.String(st.id)}
		after := st.checkpoint
		if n := len(st.buffer); n > 0 {
			after = aws.ToString(st.buffer[n-1].Dynamodb.SequenceNumber)
		}
		switch {
		case after != "":
			in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeAfterSequenceNumber, aws.String(after)
		case p.src.StartingPosition == "LATEST" && !p.first && !p.resumed:
			in.ShardIteratorType = streamtypes.ShardIteratorTypeLatest
		default:
			in.ShardIteratorType = streamtypes.ShardIteratorTypeTrimHorizon
		}
		it, err := p.client.GetShardIterator(ctx, in)
		if err != nil {
			var trimmed *streamtypes.TrimmedDataAccessException
			if errors.As(err, &trimmed) && st.checkpoint != "" && len(st.buffer) == 0 {
				st.checkpoint = "" // past the stream's retention: start from the oldest record kept
			}
			return 0, fmt.Errorf("shard iterator of %s: %w", st.id, err)
		}
		if it.ShardIterator == nil {
			st.ended = st.closed
			return 0, nil
		}
		st.iterator = it.ShardIterator
	}
	out, err := p.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: st.iterator,
		Limit: aws.Int32(int32(max(p.src.BatchSize, 100)))})
	if err != nil {
		st.iterator = nil // expired or refused: open a new one after the last record read
		var expired *streamtypes.ExpiredIteratorException
		if errors.As(err, &expired) {
			return 0, nil
		}
		return 0, fmt.Errorf("records of %s: %w", st.id, err)
	}
	st.buffer = append(st.buffer, out.Records...)
	st.iterator = out.NextShardIterator
	if st.iterator == nil {
		st.ended = st.closed // a closed shard read to its end; an open one is read again with a new iterator
	}
	return len(out.Records), nil
}

// deliver offers the batch at the head of the shard's buffer to the function once, as Lambda's event source
// mapping does: records the filter drops are done at once; a delivered batch is done; a partial failure keeps the
// failed record and what follows; a failed invocation is retried (a smaller batch when bisecting) after a backoff,
// and after the mapping's retries the batch is recorded as a StreamFailure and done.
func (p *streamPoller) deliver(ctx context.Context, st *shardState) {
	// Filtering comes before batching: a record no filter matches is never delivered.
	for len(st.buffer) > 0 && !p.passes(&st.buffer[0]) {
		p.done(st, 1)
	}
	if len(st.buffer) == 0 {
		return
	}
	limit := p.src.BatchSize
	if st.limit > 0 {
		limit = st.limit
	}
	var batch []events.DynamoDBEventRecord
	n := 0 // records of the buffer the batch spans (filtered ones included)
	for n < len(st.buffer) && len(batch) < limit {
		if p.passes(&st.buffer[n]) {
			batch = append(batch, p.lambdaRecord(&st.buffer[n]))
		}
		n++
	}
	for n < len(st.buffer) && !p.passes(&st.buffer[n]) {
		n++ // filtered records right after the batch go with it
	}
	st.attempts++
	failedAt, err := p.invoke(ctx, batch)
	if ctx.Err() != nil {
		st.attempts-- // the gateway is closing: this was no attempt
		return
	}
	switch {
	case err == nil && failedAt < 0:
		p.done(st, n)
		return
	case err == nil:
		// Partial failure: what comes before the failed record is done; the rest is retried from it.
		seq := batch[failedAt].Change.SequenceNumber
		k := 0
		for aws.ToString(st.buffer[k].Dynamodb.SequenceNumber) != seq {
			k++
		}
		if k > 0 {
			p.done(st, k)
			st.attempts = 1
		}
		err = fmt.Errorf("the function reported record %s failed", seq)
	case p.src.BisectBatchOnFunctionError && len(batch) > 1:
		st.limit = (len(batch) + 1) / 2
	}
	if p.src.MaximumRetryAttempts >= 0 && st.attempts > p.src.MaximumRetryAttempts {
		p.giveUp(st, n, batch, err)
		return
	}
	p.g.log.Warn("local stream: batch failed, will retry", slog.String("source", p.src.Name),
		slog.String("function", p.src.FunctionLogicalID), slog.Int("records", len(batch)),
		slog.Int("attempt", st.attempts), slog.String("error", err.Error()))
	backoff := p.g.streamBackoff << min(st.attempts-1, 5)
	select {
	case <-ctx.Done():
	case <-time.After(min(backoff, maxStreamRetryBackoff)):
	}
}

// giveUp records the batch spanning n records of the buffer as a StreamFailure and moves on.
func (p *streamPoller) giveUp(st *shardState, n int, batch []events.DynamoDBEventRecord, err error) {
	f := StreamFailure{Source: p.src.Name, Destination: p.src.OnFailure, Shard: st.id, Records: len(batch),
		Attempts: st.attempts, Reason: err.Error()}
	if len(batch) > 0 {
		f.FirstSequence, f.LastSequence = batch[0].Change.SequenceNumber, batch[len(batch)-1].Change.SequenceNumber
	}
	p.g.log.Error("local stream: batch given up after its retries, sent to the on-failure destination",
		slog.String("source", f.Source), slog.String("destination", f.Destination), slog.String("shard", f.Shard),
		slog.String("first_sequence", f.FirstSequence), slog.String("last_sequence", f.LastSequence),
		slog.Int("records", f.Records), slog.Int("attempts", f.Attempts), slog.String("error", f.Reason))
	p.g.mu.Lock()
	p.g.streamFailures = append(p.g.streamFailures, f)
	p.g.mu.Unlock()
	p.done(st, n)
}

// done drops the first n records of the shard's buffer and moves its checkpoint past them, noting the
// FlushStreams markers among them.
func (p *streamPoller) done(st *shardState, n int) {
	for i := range n {
		if id := p.g.markerOf(&st.buffer[i]); strings.HasPrefix(id, p.g.flushPrefix) && st.buffer[i].EventName == streamtypes.OperationTypeInsert {
			p.mu.Lock()
			p.markers[id] = true
			p.mu.Unlock()
		}
	}
	st.checkpoint = aws.ToString(st.buffer[n-1].Dynamodb.SequenceNumber)
	st.buffer = st.buffer[n:]
	st.attempts, st.limit = 0, 0
	p.save()
}

// passes says whether a record matches one of the mapping's filters (or there are none).
func (p *streamPoller) passes(r *streamtypes.Record) bool {
	if p.g.markerOf(r) != "" {
		return false // the gateway's own: never delivered
	}
	if len(p.src.Filters) == 0 {
		return true
	}
	rec := p.lambdaRecord(r)
	raw, err := json.Marshal(rec)
	if err != nil {
		return false
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return false
	}
	for _, f := range p.src.Filters {
		if template.FilterMatches(f, m) {
			return true
		}
	}
	return false
}

// invoke calls the mapping's function with a batch; failedAt is the index of the first record the function
// reported failed (-1: none). A function error, a timeout or an answer naming no record of the batch is err.
func (p *streamPoller) invoke(ctx context.Context, batch []events.DynamoDBEventRecord) (failedAt int, err error) {
	payload, err := json.Marshal(events.DynamoDBEvent{Records: batch})
	if err != nil {
		return -1, fmt.Errorf("encode the batch: %w", err)
	}
	out, err := p.g.invoke(ctx, p.src.FunctionLogicalID, newID(), payload)
	if err != nil {
		return -1, err
	}
	var resp events.DynamoDBEventResponse
	if len(out) > 0 && string(out) != "null" {
		if err := json.Unmarshal(out, &resp); err != nil {
			return -1, fmt.Errorf("the function's answer is not a batch response: %w", err)
		}
	}
	if len(resp.BatchItemFailures) == 0 {
		return -1, nil
	}
	if !p.src.ReportBatchItemFailures {
		return -1, nil // Lambda ignores the answer of a function without ReportBatchItemFailures
	}
	first := -1
	for _, f := range resp.BatchItemFailures {
		found := false
		for i := range batch {
			if batch[i].Change.SequenceNumber == f.ItemIdentifier {
				found = true
				if first < 0 || i < first {
					first = i
				}
			}
		}
		if !found {
			return -1, fmt.Errorf("the function reported a failure of %q, which is not in the batch", f.ItemIdentifier)
		}
	}
	return first, nil
}

// lambdaRecord is a stream record as Lambda delivers it.
func (p *streamPoller) lambdaRecord(r *streamtypes.Record) events.DynamoDBEventRecord {
	d := r.Dynamodb
	if d == nil {
		d = &streamtypes.StreamRecord{}
	}
	rec := events.DynamoDBEventRecord{AWSRegion: p.g.region, EventID: aws.ToString(r.EventID), EventName: string(r.EventName),
		EventSource: "aws:dynamodb", EventVersion: aws.ToString(r.EventVersion), EventSourceArn: p.arn,
		Change: events.DynamoDBStreamRecord{Keys: lambdaImage(d.Keys), NewImage: lambdaImage(d.NewImage),
			OldImage: lambdaImage(d.OldImage), SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes: aws.ToInt64(d.SizeBytes), StreamViewType: string(d.StreamViewType)}}
	if d.ApproximateCreationDateTime != nil {
		rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
	}
	if u := r.UserIdentity; u != nil {
		rec.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(u.Type), PrincipalID: aws.ToString(u.PrincipalId)}
	}
	return rec
}

// lambdaImage converts an image of the Streams API into Lambda's event shape (nil for none).
func lambdaImage(in map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(in))
	for k, v := range in {
		out[k] = lambdaValue(v)
	}
	return out
}

func lambdaValue(v streamtypes.AttributeValue) events.DynamoDBAttributeValue {
	switch x := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return events.NewStringAttribute(x.Value)
	case *streamtypes.AttributeValueMemberN:
		return events.NewNumberAttribute(x.Value)
	case *streamtypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(x.Value)
	case *streamtypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(x.Value)
	case *streamtypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(x.Value)
	case *streamtypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(x.Value)
	case *streamtypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(x.Value)
	case *streamtypes.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = lambdaValue(e)
		}
		return events.NewListAttribute(l)
	case *streamtypes.AttributeValueMemberM:
		m := lambdaImage(x.Value)
		if m == nil {
			m = map[string]events.DynamoDBAttributeValue{}
		}
		return events.NewMapAttribute(m)
	}
	return events.NewNullAttribute()
}

// streamMarkerPrefix starts the partition key of the items FlushStreams writes (each gateway adds an id of its
// own, so gateways sharing a table never take each other's markers).
const streamMarkerPrefix = "LOCAL#STREAM-FLUSH#"

// FlushStreams blocks until every record committed before the call has been offered to the stream mappings'
// functions, delivered or given up on, or until ctx ends. It is a barrier in the stream itself, not a guess from
// time or from passes (a pass may end early: a read that failed, a GetRecords that returned nothing yet): it
// writes a marker item to the table after the call began, waits until every mapping has moved past the marker's
// stream record (a shard's records are in commit order, and a child shard is read only after its parent), and
// deletes the marker. Markers are never delivered to a function. A test waits for the events of its writes with
// it, never by sleeping. Without stream sources it returns at once.
func (g *Gateway) FlushStreams(ctx context.Context) error {
	if len(g.pollers) == 0 {
		return nil
	}
	id := g.flushPrefix + strconv.FormatUint(g.flushSeq.Add(1), 10)
	key := map[string]dynamodbtypes.AttributeValue{}
	for _, k := range g.flushKeys {
		key[k] = &dynamodbtypes.AttributeValueMemberS{Value: id}
	}
	if _, err := g.flushDDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(g.streamTable), Item: key}); err != nil {
		return fmt.Errorf("flush streams: write the marker: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := g.flushDDB.DeleteItem(dctx, &dynamodb.DeleteItemInput{TableName: aws.String(g.streamTable), Key: key}); err != nil {
			g.log.Warn("local stream: delete the flush marker", slog.String("error", err.Error()))
		}
	}()
	for _, p := range g.pollers {
		for {
			p.wake()
			p.mu.Lock()
			done, changed := p.markers[id], p.changed
			if done {
				delete(p.markers, id)
			}
			p.mu.Unlock()
			if done {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("flush stream %s: %w", p.src.Name, ctx.Err())
			case <-g.closing:
				return fmt.Errorf("flush stream %s: the gateway is closed", p.src.Name)
			case <-changed:
			}
		}
	}
	return nil
}

// markerOf is the id of a FlushStreams marker, of this gateway or of an earlier one on the same table (a marker
// whose deletion a restart reads), or "" for any other record.
func (g *Gateway) markerOf(r *streamtypes.Record) string {
	if r.Dynamodb == nil || len(g.flushKeys) == 0 {
		return ""
	}
	if v, ok := r.Dynamodb.Keys[g.flushKeys[0]].(*streamtypes.AttributeValueMemberS); ok && strings.HasPrefix(v.Value, streamMarkerPrefix) {
		return v.Value
	}
	return ""
}

// StreamFailures returns the batches the stream mappings gave up on (their on-failure destination), oldest first.
func (g *Gateway) StreamFailures() []StreamFailure {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]StreamFailure(nil), g.streamFailures...)
}

// checkpoint is the saved position of one mapping: the last record done per shard, and the shards read to their end.
type checkpoint struct {
	StreamARN string            `json:"streamArn"`
	Shards    map[string]string `json:"shards"`
	Done      []string          `json:"done,omitempty"`
}

// loadCheckpoints reads the checkpoint file (none: an empty map).
func (g *Gateway) loadCheckpoints() map[string]checkpoint {
	out := map[string]checkpoint{}
	if g.checkpointPath == "" {
		return out
	}
	b, err := os.ReadFile(g.checkpointPath)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			g.log.Warn("local stream: checkpoints unreadable, reading the stream from its start", slog.String("error", err.Error()))
		}
		return out
	}
	if err := json.Unmarshal(b, &out); err != nil {
		g.log.Warn("local stream: checkpoints unreadable, reading the stream from its start", slog.String("error", err.Error()))
		return map[string]checkpoint{}
	}
	return out
}

// save records this mapping's position and writes every mapping's to the checkpoint file (atomically: a
// temporary file renamed over the old one).
func (p *streamPoller) save() {
	g := p.g
	if g.checkpointPath == "" {
		return
	}
	cp := checkpoint{StreamARN: p.arn, Shards: map[string]string{}}
	for id, st := range p.shards {
		switch {
		case st.done:
			cp.Done = append(cp.Done, id)
		case st.checkpoint != "":
			cp.Shards[id] = st.checkpoint
		}
	}
	sort.Strings(cp.Done)
	g.checkpointMu.Lock()
	defer g.checkpointMu.Unlock()
	if g.checkpoints == nil {
		g.checkpoints = map[string]checkpoint{}
	}
	g.checkpoints[p.src.Name] = cp
	b, err := json.MarshalIndent(g.checkpoints, "", "  ")
	if err == nil {
		tmp := g.checkpointPath + ".tmp"
		if err = os.MkdirAll(filepath.Dir(g.checkpointPath), 0o755); err == nil {
			if err = os.WriteFile(tmp, b, 0o600); err == nil {
				err = os.Rename(tmp, g.checkpointPath)
			}
		}
	}
	if err != nil {
		g.log.Warn("local stream: save checkpoints", slog.String("error", err.Error()))
	}
}
