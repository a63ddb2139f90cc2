package issuance

import (
	"context"
	"net/http"
	"time"
)

// PageRequest asks for one page of a list: Limit items (1..100) after the opaque Cursor of the previous page.
type PageRequest struct {
	Limit  int
	Cursor string
}

// Page is one page of a list, newest first; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// ExchangeFilter narrows the history list; empty fields do not filter.
type ExchangeFilter struct {
	Status                 Status
	CredentialDefinitionID string
}

// Pointer is an item that finds an exchange by the hash of a secret (offer id, pre-authorized code, access
// token, c_nonce, transaction id, notification id). It expires at ExpiresAt (unix seconds).
type Pointer struct {
	// Key is PointerKey(kind, secret).
	Key string
	// ExchangeID is the exchange it points to ("" for pointers of no exchange, e.g. c_nonces).
	ExchangeID string
	// ExpiresAt is the pointer's TTL (unix seconds).
	ExpiresAt int64
	// Attributes carries small non-secret data of the pointer (e.g. the credential index of a transaction id).
	Attributes map[string]string
}

// PointerOp is one pointer change written in the same transaction as an exchange update: Put creates a pointer
// (it must not exist), Consume deletes one that must exist and be unexpired (single use).
type PointerOp struct {
	Put     *Pointer
	Consume string
}

// Expect is the condition of an exchange update: the version and status the writer read.
type Expect struct {
	Version int64
	Status  Status
}

// DefinitionStore keeps credential definitions.
type DefinitionStore interface {
	// CreateDefinition stores a new definition (ErrAlreadyExists if the id is taken).
	CreateDefinition(ctx context.Context, d CredentialDefinition) error
	// GetDefinition returns a definition or ErrNotFound.
	GetDefinition(ctx context.Context, id string) (CredentialDefinition, error)
	// ReplaceDefinition overwrites a definition stored at version expectedVersion (ErrNotFound, ErrConflict).
	ReplaceDefinition(ctx context.Context, d CredentialDefinition, expectedVersion int64) error
	// DeleteDefinition removes a definition (ErrNotFound).
	DeleteDefinition(ctx context.Context, id string) error
	// ListDefinitions lists definitions newest first (ErrInvalidCursor).
	ListDefinitions(ctx context.Context, page PageRequest) (Page[CredentialDefinition], error)
}

// ExchangeStore keeps exchange records and their pointer items. Wallet-side operations live in their own
// interface; this one is what the admin use cases need.
type ExchangeStore interface {
	// CreateExchange stores a new record and its pointers in one transaction (ErrAlreadyExists).
	CreateExchange(ctx context.Context, rec ExchangeRecord, pointers []Pointer) error
	// GetExchange returns a record or ErrNotFound (also when its retention has passed).
	GetExchange(ctx context.Context, id string) (ExchangeRecord, error)
	// UpdateExchange writes rec if the stored record still has expect's version and status and the status
	// machine allows expect.Status -> rec.Status (or it is unchanged); ops are applied in the same transaction.
	// A refused or lost write changes nothing: ErrTransitionRefused, ErrConflict or ErrNotFound.
	UpdateExchange(ctx context.Context, rec ExchangeRecord, expect Expect, ops ...PointerOp) error
	// DeleteExchange removes the record and every pointer item of it (ErrNotFound).
	DeleteExchange(ctx context.Context, id string) error
	// ListExchanges lists records newest first with optional filters (ErrInvalidCursor).
	ListExchanges(ctx context.Context, filter ExchangeFilter, page PageRequest) (Page[ExchangeRecord], error)
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

// DynamicConfiguration is a credential configuration created by issuing without a definition (from
// credential.type); the issuer metadata lists it until it expires.
type DynamicConfiguration struct {
	ConfigurationID string `json:"configurationId"`
	VCT             string `json:"vct"`
	// Claims are the top-level claim names last issued under it, all selectively disclosable.
	Claims    []string `json:"claims"`
	ExpiresAt int64    `json:"expiresAt"`
}

// ConfigurationStore keeps dynamic credential configurations.
type ConfigurationStore interface {
	// PutDynamicConfiguration creates or refreshes a dynamic configuration.
	PutDynamicConfiguration(ctx context.Context, c DynamicConfiguration) error
	// ListDynamicConfigurations lists the unexpired dynamic configurations.
	ListDynamicConfigurations(ctx context.Context) ([]DynamicConfiguration, error)
}

// AdminStore is everything the admin use cases need from storage.
type AdminStore interface {
	DefinitionStore
	ExchangeStore
	IndividualStore
	ConfigurationStore
}

// Event is a status change published to subscribers: detail-type `credential.<status>`.
type Event struct {
	// DetailType is `credential.<status>`.
	DetailType string
	// ExchangeID is the record's id (safe to log).
	ExchangeID string
	// Detail is the record without claims or tokens (ExchangeRecord.EventDetail).
	Detail ExchangeRecord
	// Time is when the change happened.
	Time time.Time
}

// EventPublisher publishes status changes (EventBridge, or the log locally).
type EventPublisher interface {
	Publish(ctx context.Context, e Event) error
}

// HTTPDoer sends the offer delivery request (an *http.Client in production).
type HTTPDoer interface {
	Do(req *http.Request) (*http.Response, error)
}

// StatusEvent builds the event of rec's current status.
func StatusEvent(rec *ExchangeRecord, at time.Time) Event {
	return Event{DetailType: "credential." + string(rec.Status), ExchangeID: rec.CredentialExchangeID,
		Detail: rec.EventDetail(), Time: at}
}
