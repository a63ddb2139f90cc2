package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/requestkeys"
)

// credentialAnswer writes a credential or deferred credential answer: application/json, or, when the wallet sent
// credential_response_encryption, the same JSON as a compact JWE to its key (application/jwt), whatever the answer
// holds (1.0 section 8.3: credentials, or transaction_id and interval). Error answers are never encrypted (1.0
// section 8.3.1), so the draft issuance_pending error (a 400) stays JSON.
func credentialAnswer(status int, body any, enc *oid4vci.ResponseEncryption, headers []string) (apigw.Response, error) {
	if enc == nil || status >= http.StatusBadRequest {
		return apigw.JSON(status, body, headers...)
	}
	plain, err := json.Marshal(body)
	if err != nil {
		return apigw.Response{}, fmt.Errorf("encode credential response: %w", err)
	}
	jwe, err := enc.Encrypt(plain)
	if err != nil {
		return apigw.Response{}, fmt.Errorf("encrypt credential response: %w", err)
	}
	return apigw.Raw(status, oid4vci.MediaTypeJWT, string(jwe), headers...), nil
}

// requestKeys is the container's request encryption key ring, nil when the deployment offers no request
// encryption (REQUEST_ENCRYPTION_KMS_KEY_ID empty) or has no store and KMS client.
func (w *Wallet) requestKeys() *requestkeys.Ring {
	cfg := w.deps.Config.Trust
	if cfg.RequestEncryptionKMSKeyID == "" || w.deps.Store == nil || w.deps.Clients == nil || w.deps.Clients.KMS == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ring == nil {
		w.ring = requestkeys.New(w.deps.Store, w.deps.Clients.KMS, cfg.RequestEncryptionKMSKeyID, 0, w.now)
	}
	return w.ring
}

// openRequest decrypts an application/jwt credential or deferred credential request with the issuer's request
// encryption keys, returning the JSON plaintext and its media type, and whether it was encrypted. Without request
// encryption the body is returned as sent (the parser refuses application/jwt then).
func (w *Wallet) openRequest(ctx context.Context, req *apigw.Request, body []byte) ([]byte, string, bool, error) {
	contentType := apigw.Header(req, "Content-Type")
	ring := w.requestKeys()
	if ring == nil || !mediaTypeIs(contentType, oid4vci.MediaTypeJWT) {
		return body, contentType, false, nil
	}
	plain, err := oid4vci.DecryptRequest(ctx, body, ring)
	if err != nil {
		return nil, "", false, err
	}
	return plain, "application/json", true, nil
}

// checkRequestEncryption applies the deployment's request encryption policy to a parsed request: where request
// encryption is offered, a request in the clear is refused when the deployment requires encryption, and so is a
// clear request carrying the 1.0 shape of credential_response_encryption (1.0 section 8.2: the request that
// carries it must be encrypted, so that nobody on the way swaps the key). The draft 13 shape (alg beside jwk) comes
// from wallets that have no request encryption and is served in the clear.
func (w *Wallet) checkRequestEncryption(encrypted bool, enc *oid4vci.ResponseEncryption) error {
	if encrypted || w.requestKeys() == nil {
		return nil
	}
	if w.deps.Config.Trust.RequestEncryptionRequired {
		return oid4vci.Errorf(oid4vci.ErrInvalidEncryptionParameters, "this issuer accepts only encrypted "+
			"requests: send the request as application/jwt, a JWE (ECDH-ES) to a key of "+
			"credential_request_encryption.jwks")
	}
	if enc != nil && !enc.AlgBeside {
		return oid4vci.Errorf(oid4vci.ErrInvalidEncryptionParameters, "a request carrying "+
			"credential_response_encryption must itself be encrypted (OpenID4VCI 1.0 section 8.2): send it as "+
			"application/jwt to a key of credential_request_encryption.jwks")
	}
	return nil
}

// mediaTypeIs reports whether a Content-Type header names want (parameters ignored).
func mediaTypeIs(contentType, want string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == want
}
