package domaintest_test

import (
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
)

// TestEpochAheadOfTheRealClock: the test clocks of the DynamoDB Local tests start at Epoch, which must stay well
// ahead of the real clock or DynamoDB Local's TTL sweep deletes what those tests write (make test lost the two
// oldest records of the history list test under load once the old start date had passed by a day).
func TestEpochAheadOfTheRealClock(t *testing.T) {
	if limit := time.Now().AddDate(10, 0, 0); domaintest.Epoch.Before(limit) {
		t.Fatalf("domaintest.Epoch %s is less than ten years ahead of the real clock (%s): move it on", domaintest.Epoch, limit)
	}
}
