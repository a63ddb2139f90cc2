package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// credentialAnswer writes a credential or deferred credential answer: application/json, or, when the wallet sent
// credential_response_encryption, the same JSON as a compact JWE to its key (application/jwt), whatever the answer
// holds (1.0 section 8.3: credentials, or transaction_id and interval). Error answers are never encrypted (1.0
// section 8.3.1), so the draft issuance_pending error (a 400) stays JSON.
func credentialAnswer(status int, body any, enc *oid4vci.ResponseEncryption) (apigw.Response, error) {
	if enc == nil || status >= http.StatusBadRequest {
		return apigw.JSON(status, body, noStore...)
	}
	plain, err := json.Marshal(body)
	if err != nil {
		return apigw.Response{}, fmt.Errorf("encode credential response: %w", err)
	}
	jwe, err := enc.Encrypt(plain)
	if err != nil {
		return apigw.Response{}, fmt.Errorf("encrypt credential response: %w", err)
	}
	return apigw.Raw(status, oid4vci.MediaTypeJWT, string(jwe), noStore...), nil
}
