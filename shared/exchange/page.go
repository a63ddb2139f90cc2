package exchange

// Limits of a page request.
const (
	// DefaultPageLimit is the page size when a request names none.
	DefaultPageLimit = 20
	// MaxPageLimit is the largest page a request may ask for.
	MaxPageLimit = 100
)

// PageRequest asks for one page of a list: Limit items (1..MaxPageLimit) after the opaque Cursor of the previous
// page.
type PageRequest struct {
	Limit  int
	Cursor string
}

// Page is one page of a list, newest first; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// Filter narrows the history list; empty fields do not filter.
type Filter struct {
	Status                 Status
	CredentialDefinitionID string
}
