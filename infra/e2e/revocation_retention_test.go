package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

// deferredIssue runs a Deferred exchange of defID through the wallet: credential request (deferred), the
// organisation's completion with given_name, and the pick-up at the deferred credential endpoint; it returns
// the picked-up credential's status reference.
func (is *issuer) deferredIssue(t *testing.T, defID, exID, link string) statuslist.Reference {
	t.Helper()
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	grant, _ := offer.json["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	code, _ := grant["pre-authorized_code"].(string)
	tok := is.postForm("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"},
		"pre-authorized_code": {code}})
	if tok.status != http.StatusOK {
		t.Fatalf("token: %d %s", tok.status, tok.raw)
	}
	access := tok.str("access_token")
	nonce := is.do(http.MethodPost, "/nonce", nil).str("c_nonce")
	cred := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{newHolder(t).proof(t, is.url, nonce)}}})
	txn := cred.str("transaction_id")
	if cred.status != http.StatusAccepted || txn == "" {
		t.Fatalf("credential: %d %s", cred.status, cred.raw)
	}
	done := is.admin(http.MethodPut, "/credential/history/"+exID, map[string]any{"credential": map[string]any{
		"credentialSubject": map[string]any{"given_name": "Erika"}}})
	if done.status != http.StatusOK {
		t.Fatalf("complete: %d %s", done.status, done.raw)
	}
	ready := is.postJSON("/deferred-credential", access, map[string]any{"transaction_id": txn})
	if ready.status != http.StatusOK {
		t.Fatalf("pick-up: %d %s", ready.status, ready.raw)
	}
	creds, _ := ready.json["credentials"].([]any)
	if len(creds) != 1 {
		t.Fatalf("pick-up answered %s", ready.raw)
	}
	s, _ := creds[0].(map[string]any)["credential"].(string)
	v, err := sdjwt.Verify(s, sdjwt.WithIssuerKeySet(jwksOf(t, is)))
	if err != nil {
		t.Fatal(err)
	}
	var ref statuslist.Reference
	raw, _ := json.Marshal(v.Claims["status"])
	if err := json.Unmarshal(raw, &ref); err != nil || ref.URI == "" {
		t.Fatalf("picked-up credential status claim %s: %v", raw, err)
	}
	return ref
}

// revocationItem reads the raw revocation item of exchange id from the table (nil when there is none).
func (is *issuer) revocationItem(t *testing.T, id string) map[string]any {
	t.Helper()
	out, err := dynamodb.NewFromConfig(is.aws).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(is.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REVOCATION#" + id},
			"sk": &types.AttributeValueMemberS{Value: "REVOCATION"}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		return nil
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRevocationAfterHistoryDeleted issues revocable credentials through the wallet (credential endpoint and
// deferred pick-up), deletes the history records, and revokes and suspends them through the admin API: the PUT
// answers 200 with the minimal record, and the status list tokens fetched over HTTP (and read by
// @sd-jwt/jwt-status-list) show the change.
func TestRevocationAfterHistoryDeleted(t *testing.T) {
	is := startIssuer(t)
	defID := is.revocableDefinition()
	inTime, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	inTimeRefs, jwks := is.walletIssue(t, defID, link, 2)
	deferred, deferredLink := is.issue(map[string]any{"issuanceMode": "Deferred", "credentialDefinitionId": defID})
	deferredRefs := []statuslist.Reference{is.deferredIssue(t, defID, deferred, deferredLink)}
	bystander, bystanderLink := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Max"}}})
	bystanderRefs, _ := is.walletIssue(t, defID, bystanderLink, 1)

	for _, id := range []string{inTime, deferred} {
		if r := is.admin(http.MethodDelete, "/credential/history/"+id, nil); r.status/100 != 2 {
			t.Fatalf("DELETE history %s: %d %s", id, r.status, r.raw)
		}
		if r := is.admin(http.MethodGet, "/credential/history/"+id, nil); r.status != http.StatusNotFound {
			t.Fatalf("history of a deleted record: %d", r.status)
		}
		item := is.revocationItem(t, id)
		if item == nil {
			t.Fatalf("the revocation item of %s went with the record", id)
		}
		raw, _ := json.Marshal(item)
		if strings.Contains(string(raw), "Erika") || item["ttl"] == nil || item["revocationStatus"] != "Operational" {
			t.Fatalf("revocation item %s", raw)
		}
	}

	steps := []struct {
		name       string
		id         string
		refs       []statuslist.Reference
		to         string
		wantStatus int
		want       statuslist.Status
	}{
		{"suspend the batch", inTime, inTimeRefs, "Suspended", http.StatusOK, statuslist.Suspended},
		{"revoke the batch", inTime, inTimeRefs, "Revoked", http.StatusOK, statuslist.Invalid},
		{"revoked stays final", inTime, inTimeRefs, "Operational", http.StatusConflict, statuslist.Invalid},
		{"revoke the deferred credential", deferred, deferredRefs, "Revoked", http.StatusOK, statuslist.Invalid},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := is.admin(http.MethodPut, "/credential/history/"+s.id+"/revocation-status",
				map[string]any{"revocationStatus": s.to})
			if r.status != s.wantStatus {
				t.Fatalf("PUT revocation-status %s: %d %s", s.to, r.status, r.raw)
			}
			if r.status == http.StatusOK {
				h, _ := r.json["credentialHistory"].(map[string]any)
				for _, f := range historyrecord.SeedFields() {
					if _, ok := h[f]; !ok {
						t.Fatalf("minimal record lacks %s: %s", f, r.raw)
					}
				}
				if h["credentialExchangeId"] != s.id || h["revocationStatus"] != s.to || h["supportRevocation"] != true ||
					h["credentialDefinitionId"] != defID || h["status"] != "" || h["credentialToken"] != "" ||
					strings.Contains(string(r.raw), "Erika") {
					t.Fatalf("minimal record %s", r.raw)
				}
			}
			got, token, key := is.fetchStatuses(t, s.refs, jwks)
			for i, st := range got {
				if st != s.want {
					t.Fatalf("credential %d: %s, want %s", i, st, s.want)
				}
			}
			is.independentlyReads(t, token, key, s.refs, s.want)
			if st, _, _ := is.fetchStatuses(t, bystanderRefs, jwks); st[0] != statuslist.Valid {
				t.Fatalf("the bystander's credential is %s", st[0])
			}
		})
	}
	if h := is.history(bystander); h["revocationStatus"] != "Operational" {
		t.Fatalf("bystander record %v", h["revocationStatus"])
	}
	// An exchange never issued has no revocation item: deleting its record leaves nothing to revoke.
	never, _ := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	if r := is.admin(http.MethodPut, "/credential/history/"+never+"/revocation-status",
		map[string]any{"revocationStatus": "Revoked"}); r.status != http.StatusConflict {
		t.Fatalf("never issued: %d %s", r.status, r.raw)
	}
	is.admin(http.MethodDelete, "/credential/history/"+never, nil)
	if r := is.admin(http.MethodPut, "/credential/history/"+never+"/revocation-status",
		map[string]any{"revocationStatus": "Revoked"}); r.status != http.StatusNotFound {
		t.Fatalf("never issued, deleted: %d %s", r.status, r.raw)
	}
}
