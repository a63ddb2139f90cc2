package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/shared/awscalls"
	"github.com/sdjwt-issuer/issuer/shared/events"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// Publisher is the PublisherFunction: it receives the table's stream (DynamoDB Streams, new and old images, the
// event source mapping of template.yaml) and publishes the events every committed write calls for
// (store.ChangeOf, exchange.ChangeEvents, revocation.ChangeEvents), so a function that dies right after its write
// loses no event. Delivery is at least once: a batch that fails is retried from its first failed record, so events
// of records after it may be published again, with the same exchange id, detail-type and version.
type Publisher struct {
	pub events.Publisher
	log *slog.Logger
}

// NewPublisher builds the publisher function's handler over pub (EventBridge, or the log when no bus is set).
func NewPublisher(pub events.Publisher, log *slog.Logger) *Publisher {
	if log == nil {
		log = slog.Default()
	}
	return &Publisher{pub: pub, log: log}
}

// Handle is the Lambda handler of a DynamoDB stream batch, with partial batch responses (FunctionResponseTypes
// ReportBatchItemFailures): the records of the batch are taken in order; the first one whose events cannot be
// derived or published is reported failed (its sequence number), and nothing after it is published in this
// invocation: the event source mapping retries from it, keeping the order of each exchange's events. Handle never
// returns a function error for a record: a record that keeps failing goes to the mapping's on-failure destination
// once its retries are spent.
func (p *Publisher) Handle(ctx context.Context, batch awsevents.DynamoDBEvent) (awsevents.DynamoDBEventResponse, error) {
	start := time.Now()
	ctx, calls := awscalls.WithCounter(ctx)
	var (
		evs     []exchange.Event
		from    []int // the record index of each event
		failed  = -1
		failure error
	)
	for i := range batch.Records {
		derived, err := recordEvents(&batch.Records[i])
		if err != nil {
			failed, failure = i, err
			break
		}
		for _, e := range derived {
			evs = append(evs, e)
			from = append(from, i)
		}
	}
	published := 0
	if len(evs) > 0 {
		for k, err := range p.pub.PublishAll(ctx, evs) {
			if err == nil {
				published++
				continue
			}
			if failed < 0 || from[k] < failed {
				failed, failure = from[k], err
			}
			e := &evs[k]
			if !errors.Is(err, events.ErrNotAttempted) {
				p.log.WarnContext(ctx, "publish event failed", slog.String("detail_type", e.DetailType),
					slog.String("credential_exchange_id", e.ExchangeID), slog.Int64("version", e.Detail.Version),
					slog.String("error", err.Error()))
			}
		}
	}
	var resp awsevents.DynamoDBEventResponse
	attrs := []any{slog.String("function", "publisher"), slog.Int("records", len(batch.Records)),
		slog.Int("events", len(evs)), slog.Int("published", published), slog.Int("aws_calls", calls.Total()),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000)}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("request_id", lc.AwsRequestID))
	}
	if failed >= 0 {
		seq := batch.Records[failed].Change.SequenceNumber
		resp.BatchItemFailures = []awsevents.DynamoDBBatchItemFailure{{ItemIdentifier: seq}}
		p.log.WarnContext(ctx, "stream batch", append(attrs, slog.String("retry_from", seq),
			slog.String("error", failure.Error()))...)
		return resp, nil
	}
	p.log.InfoContext(ctx, "stream batch", attrs...)
	return resp, nil
}

// recordEvents are the events of one stream record (none for items events are not derived from).
func recordEvents(r *awsevents.DynamoDBEventRecord) ([]exchange.Event, error) {
	keys, err := itemOf(r.Change.Keys)
	if err != nil {
		return nil, fmt.Errorf("stream record %s: keys: %w", r.Change.SequenceNumber, err)
	}
	before, err := itemOf(r.Change.OldImage)
	if err != nil {
		return nil, fmt.Errorf("stream record %s: old image: %w", r.Change.SequenceNumber, err)
	}
	after, err := itemOf(r.Change.NewImage)
	if err != nil {
		return nil, fmt.Errorf("stream record %s: new image: %w", r.Change.SequenceNumber, err)
	}
	c, err := store.ChangeOf(keys, before, after)
	if err != nil {
		return nil, fmt.Errorf("stream record %s: %w", r.Change.SequenceNumber, err)
	}
	return c.Events(), nil
}

// itemOf converts an image of Lambda's stream event into the SDK's attribute values the store decodes.
func itemOf(image map[string]awsevents.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	if len(image) == 0 {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(image))
	for k, v := range image {
		av, err := attributeOf(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

// attributeOf converts one attribute value, every DynamoDB type included.
func attributeOf(v awsevents.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case awsevents.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case awsevents.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case awsevents.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case awsevents.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case awsevents.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case awsevents.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case awsevents.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case awsevents.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case awsevents.DataTypeList:
		list := v.List()
		out := make([]types.AttributeValue, len(list))
		for i, e := range list {
			av, err := attributeOf(e)
			if err != nil {
				return nil, err
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case awsevents.DataTypeMap:
		m, err := itemOf(v.Map())
		if err != nil {
			return nil, err
		}
		if m == nil {
			m = map[string]types.AttributeValue{}
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown DynamoDB attribute type %d", v.DataType())
}
