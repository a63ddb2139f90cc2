// Package store is the DynamoDB adapter for the issuance service's store interface.
package store

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the single table. Every item has PK, SK and TTL; the GSI keys are sparse.
const (
	AttrPK     = "pk"
	AttrSK     = "sk"
	AttrTTL    = "ttl"
	AttrGSI1PK = "gsi1pk"
	AttrGSI1SK = "gsi1sk"
	AttrGSI2PK = "gsi2pk"
	AttrGSI2SK = "gsi2sk"
	AttrGSI3PK = "gsi3pk"
	AttrGSI3SK = "gsi3sk"
)

// Index names. GSI1 lists items of one kind newest first (all history, all definitions), GSI2 lists
// history by status, GSI3 lists history by credential definition.
const (
	IndexByKind       = "gsi1"
	IndexByStatus     = "gsi2"
	IndexByDefinition = "gsi3"
)

// TableDefinition is the one definition of the table: the local stack creates it from this value and a
// template test checks that template.yaml declares the same keys, indexes, TTL attribute and stream. The stream
// (new and old images) is what the publisher derives the events from (ChangeOf, handlers.Publisher).
func TableDefinition(name string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	gsi := func(name, pk, sk string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{
			IndexName: aws.String(name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: s},
			{AttributeName: aws.String(AttrSK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI1PK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI1SK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI2PK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI2SK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI3PK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI3SK), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi(IndexByKind, AttrGSI1PK, AttrGSI1SK),
			gsi(IndexByStatus, AttrGSI2PK, AttrGSI2SK),
			gsi(IndexByDefinition, AttrGSI3PK, AttrGSI3SK),
		},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewAndOldImages},
	}
}
