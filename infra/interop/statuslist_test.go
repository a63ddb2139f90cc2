package interop

import (
	"bytes"
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

// statusListNode runs a statuslist_*.cjs script of this directory with input as JSON on stdin and decodes its
// stdout into output; node and @sd-jwt/jwt-status-list must be installed (testkit.Node).
func statusListNode(t *testing.T, script string, input, output any) {
	t.Helper()
	testkit.RunNode(t, "@sd-jwt/jwt-status-list", script, input, output)
}

type statusListReadResult struct {
	SignatureValid bool           `json:"signatureValid"`
	Header         map[string]any `json:"header"`
	Payload        map[string]any `json:"payload"`
	Length         int            `json:"length"`
	Bits           int            `json:"bits"`
	Statuses       []int          `json:"statuses"`
}

// TestStatusListTokenReadByJWTStatusList: @sd-jwt/jwt-status-list reads the token we sign for a full-size list
// and sees each credential's status; a tampered token fails its signature check.
func TestStatusListTokenReadByJWTStatusList(t *testing.T) {
	key, pub := newKey(t)
	layout := statuslist.DefaultLayout()
	list, err := layout.NewList()
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]statuslist.Status{
		0: statuslist.Suspended, 1: statuslist.Invalid, 2: statuslist.Valid, 3: statuslist.Invalid,
		4097: statuslist.Invalid, 65536: statuslist.Valid, 77777: statuslist.Suspended,
		layout.Capacity - 1: statuslist.Invalid,
		// Suspended, then reinstated: VALID again.
		5: statuslist.Valid,
	}
	for idx, rs := range map[int]statuslist.RevocationStatus{
		0: statuslist.RevocationSuspended, 1: statuslist.RevocationRevoked, 3: statuslist.RevocationRevoked,
		4097: statuslist.RevocationRevoked, 77777: statuslist.RevocationSuspended,
		layout.Capacity - 1: statuslist.RevocationRevoked, 5: statuslist.RevocationSuspended,
	} {
		s, err := rs.Status()
		if err != nil {
			t.Fatal(err)
		}
		if err := list.Set(idx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := list.Set(5, statuslist.Valid); err != nil {
		t.Fatal(err)
	}

	uri := statuslist.URI("https://issuer.example/tenant", statuslist.ListID{Shard: 3, Generation: 0})
	now := time.Now()
	token, err := statuslist.IssueToken(context.Background(), &localSigner{key: key, kid: "status-list-interop"}, list, statuslist.TokenOptions{
		URI: uri, IssuedAt: now, Validity: 12 * time.Hour, TTL: 15 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	indexes := make([]int, 0, len(want))
	for idx := range want {
		indexes = append(indexes, idx)
	}
	var got statusListReadResult
	statusListNode(t, "statuslist_read.cjs", map[string]any{"token": token, "jwk": pub, "indexes": indexes}, &got)

	if !got.SignatureValid {
		t.Error("@sd-jwt/crypto-nodejs rejects our ES256 signature")
	}
	if got.Header["typ"] != "statuslist+jwt" || got.Header["alg"] != "ES256" || got.Header["kid"] != "status-list-interop" {
		t.Errorf("header %v", got.Header)
	}
	if got.Payload["sub"] != uri || got.Payload["ttl"] != float64(900) ||
		got.Payload["iat"] != float64(now.Unix()) || got.Payload["exp"] != float64(now.Add(12*time.Hour).Unix()) {
		t.Errorf("payload %v", got.Payload)
	}
	if got.Length != layout.Capacity || got.Bits != 2 {
		t.Errorf("list of %d entries of %d bits, want %d of 2", got.Length, got.Bits, layout.Capacity)
	}
	for i, idx := range indexes {
		if i >= len(got.Statuses) || statuslist.Status(got.Statuses[i]) != want[idx] {
			t.Errorf("index %d: @sd-jwt/jwt-status-list reads %v, want %s", idx, got.Statuses, want[idx])
		}
	}

	// Negative control: the same check fails on a token whose payload was altered (a longer ttl) but not re-signed.
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"ttl":900`), []byte(`"ttl":901`), 1))
	var tampered statusListReadResult
	statusListNode(t, "statuslist_read.cjs", map[string]any{"token": strings.Join(parts, "."), "jwk": pub,
		"indexes": []int{}}, &tampered)
	if tampered.SignatureValid {
		t.Error("a tampered token passes the independent signature check")
	}
}

// TestStatusListWrittenByJWTStatusList: lists compressed by @sd-jwt/jwt-status-list (pako, zlib level 9) decode
// with our decoder to the same statuses, and our encoder (compress/zlib at its best level) compresses about as well
// as pako. The bytes may differ: any valid ZLIB stream is a valid lst.
func TestStatusListWrittenByJWTStatusList(t *testing.T) {
	tests := []struct {
		name string
		bits int
		size int
		set  map[int]statuslist.Status
	}{
		{"draft example, 1 bit", 1, 16, map[int]statuslist.Status{0: 1, 3: 1, 4: 1, 5: 1, 7: 1, 8: 1, 9: 1, 13: 1, 15: 1}},
		{"draft example, 2 bits", 2, 12, map[int]statuslist.Status{0: 1, 1: 2, 3: 3, 5: 1, 7: 1, 8: 1, 9: 2, 10: 3, 11: 3}},
		{"empty 2^17 list", 2, 1 << 17, map[int]statuslist.Status{}},
		{"2^17 list, a few changes", 2, 1 << 17, map[int]statuslist.Status{
			0: 1, 1: 2, 999: 1, 4096: 2, 50_000: 1, 100_000: 1, 131_071: 2,
		}},
		{"4 bits", 4, 4096, map[int]statuslist.Status{7: 15, 8: 3, 4095: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := map[string]int{}
			ours, err := statuslist.New(tt.bits, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			for idx, s := range tt.set {
				set[strconv.Itoa(idx)] = int(s)
				if err := ours.Set(idx, s); err != nil {
					t.Fatal(err)
				}
			}
			var out struct {
				LST string `json:"lst"`
			}
			statusListNode(t, "statuslist_write.cjs", map[string]any{"bits": tt.bits, "size": tt.size, "set": set}, &out)
			theirs, err := statuslist.Decode(tt.bits, out.LST)
			if err != nil {
				t.Fatalf("decode their lst: %v", err)
			}
			if !bytes.Equal(theirs.Bytes(), ours.Bytes()) {
				t.Fatalf("their list decodes to other bytes than ours")
			}
			lst := ours.Encode()
			again, err := statuslist.Decode(tt.bits, lst)
			if err != nil || !bytes.Equal(again.Bytes(), theirs.Bytes()) {
				t.Fatalf("our lst does not decode to the list pako compressed: %v", err)
			}
			// compress/zlib ends every stream with an empty stored block (5 bytes, 7 base64url chars) that the
			// reference zlib leaves out; beyond that our lst must be within 10% of pako's level 9.
			if len(lst) > len(out.LST)+len(out.LST)/10+8 {
				t.Errorf("our lst is %d chars, pako's level 9 %d: more than 10%% larger", len(lst), len(out.LST))
			}
			t.Logf("lst: ours %d chars, pako %d chars, identical %v", len(lst), len(out.LST), lst == out.LST)
		})
	}
}
