package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/infra/template"
)

// streamFunction is a stream-mapped function that records every batch it is given; answer decides what it
// answers for a batch (the index of the record to report failed, or an error).
type streamFunction struct {
	mu      sync.Mutex
	batches [][]events.DynamoDBEventRecord
	answer  func(call int, batch []events.DynamoDBEventRecord) (failed int, err error)
}

func (f *streamFunction) handler() lambda.Handler {
	return lambda.NewHandler(func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		f.mu.Lock()
		call := len(f.batches)
		f.batches = append(f.batches, ev.Records)
		answer := f.answer
		f.mu.Unlock()
		var resp events.DynamoDBEventResponse
		if answer == nil {
			return resp, nil
		}
		failed, err := answer(call, ev.Records)
		if err != nil {
			return resp, err
		}
		if failed >= 0 {
			resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: ev.Records[failed].Change.SequenceNumber}}
		}
		return resp, nil
	})
}

// keys are the pk of every record of every batch, in order.
func (f *streamFunction) keys() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]string
	for _, b := range f.batches {
		var ks []string
		for _, r := range b {
			ks = append(ks, r.Change.Keys["pk"].String())
		}
		out = append(out, ks)
	}
	return out
}

// delivered are the pks of every record delivered, in order, repeats included.
func (f *streamFunction) delivered() []string {
	var out []string
	for _, b := range f.keys() {
		out = append(out, b...)
	}
	return out
}

// streamEnv is a fresh table of the local stack whose stream a gateway maps to fn.
type streamEnv struct {
	t     *testing.T
	cfg   aws.Config
	table string
	ddb   *dynamodb.Client
	fn    *streamFunction
}

func newStreamEnv(t *testing.T) *streamEnv {
	t.Helper()
	stack := localstack.ForTest(t)
	ctx := context.Background()
	table := stack.NewTable(ctx, t)
	cfg, err := stack.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &streamEnv{t: t, cfg: cfg, table: table, ddb: dynamodb.NewFromConfig(cfg), fn: &streamFunction{}}
}

// source is a mapping of the publisher's kind with batch size n, filtered to items whose pk starts with "EV#".
func source(n int) template.StreamSource {
	return template.StreamSource{Name: "TestStream", FunctionLogicalID: "StreamFunction", Table: "IssuerTable",
		StartingPosition: "TRIM_HORIZON", BatchSize: n, MaximumRetryAttempts: 3, BisectBatchOnFunctionError: true,
		ReportBatchItemFailures: true, OnFailure: "${TestQueue.Arn}",
		Filters: []map[string]any{{"eventName": []any{"INSERT", "MODIFY"}, "dynamodb": map[string]any{"Keys": map[string]any{
			"pk": map[string]any{"S": []any{map[string]any{"prefix": "EV#"}}}}}}}}
}

func (e *streamEnv) gateway(src template.StreamSource, opts ...Option) *Gateway {
	e.t.Helper()
	all := append([]Option{WithLogger(quietLogger()), WithTableStream(e.cfg, e.table, []template.StreamSource{src}),
		WithStreamRetryBackoff(time.Millisecond)}, opts...)
	g := New(nil, map[string]lambda.Handler{"StreamFunction": e.fn.handler()}, all...)
	if err := g.Err(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(g.Close)
	return g
}

func (e *streamEnv) put(pk string, version int) {
	e.t.Helper()
	_, err := e.ddb.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "sk": &ddbtypes.AttributeValueMemberS{Value: "X"},
		"version": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(version)},
		"tags":    &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberBOOL{Value: true}}}}})
	if err != nil {
		e.t.Fatal(err)
	}
}

func flush(t *testing.T, g *Gateway) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.FlushStreams(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestStreamDelivery: the committed writes reach the mapped function in order, as Lambda's DynamoDBEvent (event
// name, keys, both images, sequence numbers, the stream's ARN), in batches of at most BatchSize, and only those
// the filter lets through; FlushStreams returns once every write made before it was delivered.
func TestStreamDelivery(t *testing.T) {
	e := newStreamEnv(t)
	g := e.gateway(source(3))
	var want []string
	for i := 0; i < 7; i++ {
		e.put(fmt.Sprintf("EV#%d", i), 1)
		want = append(want, fmt.Sprintf("EV#%d", i))
		e.put(fmt.Sprintf("OTHER#%d", i), 1) // filtered out
	}
	e.put("EV#0", 2)
	want = append(want, "EV#0")
	flush(t, g)
	if got := e.fn.delivered(); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	var seqs []string
	for _, b := range e.fn.batches {
		if len(b) > 3 {
			t.Errorf("a batch of %d records, BatchSize 3", len(b))
		}
		for _, r := range b {
			seqs = append(seqs, r.Change.SequenceNumber)
			if r.EventSource != "aws:dynamodb" || r.EventSourceArn == "" || r.Change.StreamViewType != "NEW_AND_OLD_IMAGES" ||
				r.Change.NewImage["version"].Number() == "" || r.Change.NewImage["tags"].List()[0].Boolean() != true {
				t.Errorf("record %+v is not what Lambda delivers", r)
			}
		}
	}
	last := e.fn.batches[len(e.fn.batches)-1]
	if r := last[len(last)-1]; r.EventName != "MODIFY" || r.Change.OldImage["version"].Number() != "1" || r.Change.NewImage["version"].Number() != "2" {
		t.Errorf("the update arrived as %s with %v -> %v, want MODIFY with both images", r.EventName, r.Change.OldImage, r.Change.NewImage)
	}
	if !slices.IsSortedFunc(seqs, compareSequence) {
		t.Errorf("sequence numbers out of order: %v", seqs)
	}
	if len(g.StreamFailures()) != 0 {
		t.Errorf("failures %+v", g.StreamFailures())
	}
}

// compareSequence orders stream sequence numbers (decimal strings).
func compareSequence(a, b string) int {
	switch {
	case len(a) != len(b):
		return len(a) - len(b)
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestStreamRetries: a partial batch failure is retried from the failed record (what came before it is not
// delivered again), a failed invocation is retried with the batch halved, and a batch that keeps failing is given
// up after MaximumRetryAttempts retries, recorded as a StreamFailure, while the records after it still arrive.
func TestStreamRetries(t *testing.T) {
	t.Run("partial failure", func(t *testing.T) {
		e := newStreamEnv(t)
		e.fn.answer = func(call int, b []events.DynamoDBEventRecord) (int, error) {
			if call == 0 {
				return 2, nil // the third record failed
			}
			return -1, nil
		}
		for i := 0; i < 4; i++ { // written before the gateway reads: one batch of 4, whatever the machine's load
			e.put(fmt.Sprintf("EV#%d", i), 1)
		}
		g := e.gateway(source(4))
		flush(t, g)
		got := e.fn.keys()
		if len(got) != 2 || !slices.Equal(got[0], []string{"EV#0", "EV#1", "EV#2", "EV#3"}) || !slices.Equal(got[1], []string{"EV#2", "EV#3"}) {
			t.Fatalf("batches %v, want the retry to start at the failed record", got)
		}
	})
	t.Run("function error bisects", func(t *testing.T) {
		e := newStreamEnv(t)
		e.fn.answer = func(call int, b []events.DynamoDBEventRecord) (int, error) {
			if call == 0 {
				return -1, errors.New("crashed")
			}
			return -1, nil
		}
		for i := 0; i < 4; i++ { // written before the gateway reads: one batch of 4, whatever the machine's load
			e.put(fmt.Sprintf("EV#%d", i), 1)
		}
		g := e.gateway(source(4))
		flush(t, g)
		got := e.fn.keys()
		if len(got) != 3 || len(got[0]) != 4 || !slices.Equal(got[1], []string{"EV#0", "EV#1"}) || !slices.Equal(got[2], []string{"EV#2", "EV#3"}) {
			t.Fatalf("batches %v, want the failed batch of 4 retried as two halves", got)
		}
	})
	t.Run("retries spent", func(t *testing.T) {
		e := newStreamEnv(t)
		e.fn.answer = func(_ int, b []events.DynamoDBEventRecord) (int, error) {
			for i, r := range b {
				if r.Change.Keys["pk"].String() == "EV#poison" {
					return i, nil
				}
			}
			return -1, nil
		}
		src := source(10)
		src.BisectBatchOnFunctionError = false
		e.put("EV#a", 1) // written before the gateway reads: one batch of 3
		e.put("EV#poison", 1)
		e.put("EV#b", 1)
		g := e.gateway(src)
		flush(t, g)
		f := g.StreamFailures()
		if len(f) != 1 || f[0].Records != 2 || f[0].Attempts != src.MaximumRetryAttempts+1 || f[0].Destination != "${TestQueue.Arn}" ||
			f[0].FirstSequence == "" {
			t.Fatalf("failures %+v, want the batch from the poison record after %d attempts", f, src.MaximumRetryAttempts+1)
		}
		e.put("EV#c", 1)
		flush(t, g)
		if got := e.fn.delivered(); got[len(got)-1] != "EV#c" {
			t.Fatalf("after the failure the stream stopped: %v", got)
		}
	})
}

// lagging is a stream that answers the first GetRecords calls after it is armed with no records and the same
// iterator, as DynamoDB Streams may while records are there (and as a read that failed leaves the pass).
type lagging struct {
	StreamsAPI
	mu    sync.Mutex
	empty int // GetRecords calls still to answer empty
	// noNext is how many GetRecords answers still to give without a next iterator, as DynamoDB Local sometimes
	// answers for a shard that is open; failing the same for an error.
	noNext, failing int
}

func (l *lagging) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	l.mu.Lock()
	lag, drop, fail := l.empty > 0, l.noNext > 0, l.failing > 0
	switch {
	case lag:
		l.empty--
	case fail:
		l.failing--
	case drop:
		l.noNext--
	}
	l.mu.Unlock()
	switch {
	case lag:
		return &dynamodbstreams.GetRecordsOutput{NextShardIterator: in.ShardIterator}, nil
	case fail:
		return nil, errors.New("ResourceNotFoundException: Invalid ShardId in ShardIterator")
	}
	out, err := l.StreamsAPI.GetRecords(ctx, in, opts...)
	if err == nil && drop {
		out.NextShardIterator = nil
	}
	return out, err
}

// TestFlushStreamsIsABarrier: FlushStreams returns only once the writes made before it are delivered, even when
// the stream answers nothing for a while (a pass over the shards then ends without them). Before, it waited for
// one pass that began after the call, and returned with nothing delivered (seen under make test's load).
func TestFlushStreamsIsABarrier(t *testing.T) {
	e := newStreamEnv(t)
	lag := &lagging{}
	wrap := func(g *Gateway) {
		g.streamsWrap = func(s StreamsAPI) StreamsAPI { lag.StreamsAPI = s; return lag }
	}
	g := e.gateway(source(10), wrap)
	flush(t, g) // the poller has its iterator
	lag.mu.Lock()
	lag.empty = 5
	lag.mu.Unlock()
	e.put("EV#1", 1)
	e.put("EV#2", 1)
	flush(t, g)
	if got := e.fn.delivered(); !slices.Equal(got, []string{"EV#1", "EV#2"}) {
		t.Fatalf("delivered %v when FlushStreams returned, want both writes", got)
	}
	var scan []string
	out, err := e.ddb.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		scan = append(scan, it["pk"].(*ddbtypes.AttributeValueMemberS).Value)
	}
	slices.Sort(scan)
	if !slices.Equal(scan, []string{"EV#1", "EV#2"}) {
		t.Fatalf("the table holds %v after the flush, want only the test's items (no marker left)", scan)
	}
}

// TestStreamOfDynamoDBLocal: DynamoDB Local answers GetRecords for an open shard without a next iterator, or
// with "Invalid ShardId in ShardIterator": the shard is read on with a new iterator after the last record read,
// nothing twice and nothing lost. Before, a missing iterator ended the shard for good: every later write of it was
// never delivered (make test saw a flush wait in vain for its marker).
func TestStreamOfDynamoDBLocal(t *testing.T) {
	e := newStreamEnv(t)
	lag := &lagging{}
	g := e.gateway(source(10), func(g *Gateway) {
		g.streamsWrap = func(s StreamsAPI) StreamsAPI { lag.StreamsAPI = s; return lag }
	})
	e.put("EV#1", 1)
	flush(t, g)
	lag.mu.Lock()
	lag.noNext, lag.failing = 2, 1
	lag.mu.Unlock()
	e.put("EV#2", 1)
	flush(t, g)
	e.put("EV#3", 1)
	flush(t, g)
	if got := e.fn.delivered(); !slices.Equal(got, []string{"EV#1", "EV#2", "EV#3"}) {
		t.Fatalf("delivered %v, want each write once", got)
	}
}

// TestStreamCheckpoints: with a checkpoint file, a gateway started again resumes after the last record done,
// including a write made while none ran (the make run that was killed after a write).
func TestStreamCheckpoints(t *testing.T) {
	e := newStreamEnv(t)
	path := filepath.Join(t.TempDir(), "streams.json")
	g := e.gateway(source(10), WithStreamCheckpoints(path))
	e.put("EV#1", 1)
	flush(t, g)
	g.Close()
	e.put("EV#2", 1) // committed while no gateway runs
	g = e.gateway(source(10), WithStreamCheckpoints(path))
	flush(t, g)
	if got := e.fn.delivered(); !slices.Equal(got, []string{"EV#1", "EV#2"}) {
		t.Fatalf("delivered %v, want each write once across the restart", got)
	}
	var saved map[string]checkpoint
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &saved); err != nil || len(saved["TestStream"].Shards) == 0 {
		t.Fatalf("checkpoint file %s: %v", b, err)
	}
}

// TestTemplateStreamSource: the template's own mapping, evaluated locally: exchange records and revocation items
// reach the publisher, other items and deletes do not.
func TestTemplateStreamSource(t *testing.T) {
	sources, err := template.StreamSources("../../template.yaml")
	if err != nil || len(sources) != 1 {
		t.Fatalf("stream sources %v: %v", sources, err)
	}
	src := sources[0]
	src.FunctionLogicalID = "StreamFunction"
	e := newStreamEnv(t)
	g := e.gateway(src)
	for _, pk := range []string{"EXCHANGE#e1", "CODE#ab", "REVOCATION#e1", "DEF#d1"} {
		e.put(pk, 1)
	}
	if _, err := e.ddb.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(e.table),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "EXCHANGE#e1"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "X"}}}); err != nil {
		t.Fatal(err)
	}
	flush(t, g)
	if got := e.fn.delivered(); !slices.Equal(got, []string{"EXCHANGE#e1", "REVOCATION#e1"}) {
		t.Fatalf("delivered %v, want the exchange record and the revocation item, no delete", got)
	}
}
