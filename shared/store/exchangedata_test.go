package store_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// TestStoredExchangeOfPreviousRelease: the testdata are the `data` attribute of exchange items written by the
// release before the store had its own shape (an issued, revocable exchange with two payloads, a tx_code and a
// delivery, and a pending dynamic Deferred one), with the history record and the event detail that release
// rendered from them, plus the additions made since (offerExpiresAt, issue 11; presentationFailure, issue 15).
// They still decode to the same
// record, render to the same bytes, and what this version writes
// for them differs only by leaving out history fields no use case sets, which that release rendered exactly as
// when present and empty: so old items stay readable and the previous version reads new ones during a deploy.
func TestStoredExchangeOfPreviousRelease(t *testing.T) {
	for _, name := range []string{"exchange-record-v1", "exchange-record-pending-v1"} {
		t.Run(name, func(t *testing.T) {
			old := readFile(t, "testdata/"+name+".json")
			rec, err := store.UnmarshalExchange(old)
			if err != nil {
				t.Fatal(err)
			}
			rendered, err := json.MarshalIndent(historyrecord.From(&rec), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if want := readFile(t, "testdata/"+name+".rendered.json"); !bytes.Equal(rendered, want) {
				t.Errorf("history record\n got %s\nwant %s", rendered, want)
			}
			if event, err := os.ReadFile("testdata/" + name + ".event.json"); err == nil {
				detail := rec.EventDetail()
				got, err := json.MarshalIndent(historyrecord.From(&detail), "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, event) {
					t.Errorf("event detail\n got %s\nwant %s", got, event)
				}
			}

			written, err := store.MarshalExchange(&rec)
			if err != nil {
				t.Fatal(err)
			}
			oldFields, newFields := decodeObject(t, old), decodeObject(t, written)
			if !reflect.DeepEqual(oldFields["internal"], newFields["internal"]) {
				t.Errorf("internal state\n got %v\nwant %v", newFields["internal"], oldFields["internal"])
			}
			oldRec, newRec := oldFields["record"].(map[string]any), newFields["record"].(map[string]any)
			for k, v := range oldRec {
				nv, ok := newRec[k]
				switch {
				case ok && !reflect.DeepEqual(nv, v):
					t.Errorf("record.%s = %v, the previous release wrote %v", k, nv, v)
				case !ok && !emptyJSON(v):
					t.Errorf("record.%s left out, but the previous release wrote %v", k, v)
				}
			}
			for k := range newRec {
				if _, ok := oldRec[k]; !ok {
					t.Errorf("record.%s is new to the stored shape", k)
				}
			}
			again, err := store.UnmarshalExchange(written)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, rec) {
				t.Errorf("round trip\n got %+v\nwant %+v", again, rec)
			}
		})
	}
}

// TestStoredExchangeHoldsNoClearSecret: the stored shape has no field for a clear PIN, code or token.
func TestStoredExchangeHoldsNoClearSecret(t *testing.T) {
	rec, err := store.UnmarshalExchange(readFile(t, "testdata/exchange-record-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.MarshalExchange(&rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"userPin"`) {
		t.Fatalf("stored shape has a userPin field: %s", b)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

func decodeObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// emptyJSON reports whether v is how the previous release wrote a field with nothing in it.
func emptyJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case json.Number:
		return x == "0"
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
