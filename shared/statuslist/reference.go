package statuslist

import (
	"encoding/json"
	"fmt"

	"github.com/sdjwt-issuer/issuer/shared/strictjson"
)

// Reference is the status list entry of one credential: its index in the list at URI. It marshals as the value of
// the credential's `status` claim, {"status_list": {"idx": n, "uri": "..."}}.
type Reference struct {
	Idx int
	URI string
}

type referenceJSON struct {
	StatusList *referenceEntryJSON `json:"status_list"`
}

type referenceEntryJSON struct {
	Idx *int   `json:"idx"`
	URI string `json:"uri"`
}

// Validate checks that the index is non-negative and the URI present.
func (r Reference) Validate() error {
	if r.Idx < 0 {
		return fmt.Errorf("status reference index %d: %w", r.Idx, ErrInvalidReference)
	}
	if r.URI == "" {
		return fmt.Errorf("status reference without uri: %w", ErrInvalidReference)
	}
	return nil
}

// MarshalJSON writes the `status` claim value.
func (r Reference) MarshalJSON() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	idx := r.Idx
	return json.Marshal(referenceJSON{StatusList: &referenceEntryJSON{Idx: &idx, URI: r.URI}})
}

// UnmarshalJSON reads a `status` claim value strictly (strictjson: names case-sensitive, none repeated); other
// status mechanisms next to status_list are ignored.
func (r *Reference) UnmarshalJSON(b []byte) error {
	var v referenceJSON
	if err := strictjson.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("status claim: %w: %w", ErrInvalidReference, err)
	}
	if v.StatusList == nil || v.StatusList.Idx == nil {
		return fmt.Errorf("status claim without status_list idx: %w", ErrInvalidReference)
	}
	ref := Reference{Idx: *v.StatusList.Idx, URI: v.StatusList.URI}
	if err := ref.Validate(); err != nil {
		return err
	}
	*r = ref
	return nil
}

// Claim returns the `status` claim value as a JSON object tree, for builders of credential claims that work on
// maps rather than structs.
func (r Reference) Claim() map[string]any {
	return map[string]any{"status_list": map[string]any{"idx": r.Idx, "uri": r.URI}}
}
