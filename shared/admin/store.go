package admin

import (
	"context"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
)

// DefinitionStore keeps credential definitions.
type DefinitionStore interface {
	// CreateDefinition stores a new definition (ErrAlreadyExists if the id is taken).
	CreateDefinition(ctx context.Context, d definition.Definition) error
	// GetDefinition returns a definition or ErrNotFound.
	GetDefinition(ctx context.Context, id string) (definition.Definition, error)
	// ReplaceDefinition overwrites a definition stored at version expectedVersion (ErrNotFound, ErrConflict).
	ReplaceDefinition(ctx context.Context, d definition.Definition, expectedVersion int64) error
	// DeleteDefinition removes a definition (ErrNotFound).
	DeleteDefinition(ctx context.Context, id string) error
	// ListDefinitions lists definitions newest first (ErrInvalidCursor).
	ListDefinitions(ctx context.Context, page exchange.PageRequest) (exchange.Page[definition.Definition], error)
}

// PresentationDefinitionStore keeps presentation definitions (what holders present in dynamic credential requests).
type PresentationDefinitionStore interface {
	// CreatePresentationDefinition stores a new definition (ErrAlreadyExists if the id is taken).
	CreatePresentationDefinition(ctx context.Context, d presentationdef.Definition) error
	// GetPresentationDefinition returns a definition or ErrNotFound.
	GetPresentationDefinition(ctx context.Context, id string) (presentationdef.Definition, error)
	// ReplacePresentationDefinition overwrites a definition stored at version expectedVersion (ErrNotFound,
	// ErrConflict).
	ReplacePresentationDefinition(ctx context.Context, d presentationdef.Definition, expectedVersion int64) error
	// DeletePresentationDefinition removes a definition (ErrNotFound).
	DeletePresentationDefinition(ctx context.Context, id string) error
	// ListPresentationDefinitions lists definitions newest first (ErrInvalidCursor).
	ListPresentationDefinitions(ctx context.Context, page exchange.PageRequest) (exchange.Page[presentationdef.Definition], error)
}

// ExchangeStore keeps exchange records and their pointer items. Wallet-side operations live in their own
// interface; this one is what the admin use cases need.
type ExchangeStore interface {
	// CreateExchange stores a new record and its pointers in one transaction (ErrAlreadyExists).
	CreateExchange(ctx context.Context, rec exchange.Record, pointers []exchange.Pointer, consume ...string) error
	// GetExchange returns a record or ErrNotFound (also when its retention has passed).
	GetExchange(ctx context.Context, id string) (exchange.Record, error)
	// UpdateExchange writes rec if the stored record still has expect's version and status and the status
	// machine allows expect.Status -> rec.Status (or it is unchanged); ops are applied in the same transaction.
	// A refused or lost write changes nothing: ErrTransitionRefused, ErrConflict or ErrNotFound.
	UpdateExchange(ctx context.Context, rec exchange.Record, expect exchange.Expect, ops ...exchange.PointerOp) error
	// DeleteExchange removes the record and every pointer item of it (ErrNotFound).
	DeleteExchange(ctx context.Context, id string) error
	// ListExchanges lists records newest first with optional filters (ErrInvalidCursor).
	ListExchanges(ctx context.Context, filter exchange.Filter, page exchange.PageRequest) (exchange.Page[exchange.Record], error)
}

// Individual is a registered holder device: the offer endpoint offers for that individual are delivered to.
type Individual struct {
	IndividualID            string `json:"individualId"`
	CredentialOfferEndpoint string `json:"credentialOfferEndpoint"`
	CreatedAt               int64  `json:"createdAt"`
	UpdatedAt               int64  `json:"updatedAt"`
}

// IndividualStore keeps individuals' offer endpoints.
type IndividualStore interface {
	// PutIndividual creates or replaces an individual's registration.
	PutIndividual(ctx context.Context, ind Individual) error
	// GetIndividual returns a registration or ErrNotFound.
	GetIndividual(ctx context.Context, id string) (Individual, error)
	// DeleteIndividual removes a registration (ErrNotFound).
	DeleteIndividual(ctx context.Context, id string) error
}

// ConfigurationStore keeps dynamic credential configurations.
type ConfigurationStore interface {
	// PutDynamicConfiguration creates or refreshes a dynamic configuration.
	PutDynamicConfiguration(ctx context.Context, c definition.DynamicConfiguration) error
	// ListDynamicConfigurations lists the unexpired dynamic configurations.
	ListDynamicConfigurations(ctx context.Context) ([]definition.DynamicConfiguration, error)
}

// Store is everything the admin use cases need from storage.
type Store interface {
	DefinitionStore
	PresentationDefinitionStore
	ExchangeStore
	IndividualStore
	ConfigurationStore
}
