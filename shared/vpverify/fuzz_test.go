package vpverify_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/openid4vp"
	"github.com/sdjwt-issuer/issuer/shared/vpverify"
)

// FuzzVerify feeds Verify what a wallet posts (vp_token and presentation_submission) against a DCQL and a
// Presentation Exchange request: anything but a genuine presentation of a trusted credential is refused with a
// *vpverify.Error, never a panic or another error.
func FuzzVerify(f *testing.F) {
	w := newWorld(f)
	own := w.credential(w.own, ownURL, employeeVCT, map[string]any{"given_name": "Erika", "employer": "ACME"}, 1, nil)
	good := w.present(own, clientID, nonce, nil)
	f.Add(vpToken(map[string][]string{"employee": {good}}), "", true)
	f.Add(good, `{"id": "s", "definition_id": "employment", "descriptor_map": [{"id": "employee", "format": "vc+sd-jwt", "path": "$"}]}`, false)
	f.Add(`{"employee": ["a.b.c~"]}`, "", true)
	dcqlExp := vpverify.Expectation{Definition: dcqlSpec(f, employeeQuery, secondURL), ClientID: clientID, Nonce: nonce}
	peExp := dcqlExp
	peExp.Definition = peSpec(f)
	f.Fuzz(func(t *testing.T, token, submission string, dcql bool) {
		exp := peExp
		if dcql {
			exp = dcqlExp
		}
		_, err := w.v.Verify(context.Background(), exp, &openid4vp.Response{State: "s", VPToken: token, PresentationSubmission: submission})
		var ve *vpverify.Error
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("error %v is not a refusal", err)
		}
	})
}
