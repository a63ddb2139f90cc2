package wallet

import (
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// errEncryptionRequired answers a request without credential_response_encryption where the deployment or the
// exchange's definition requires encrypted responses (OpenID4VCI 1.0 section 8.2: invalid_encryption_parameters
// also means the parameters are missing).
var errEncryptionRequired = oid4vci.Errorf(oid4vci.ErrInvalidEncryptionParameters, "this credential is only "+
	"issued in an encrypted response: send credential_response_encryption with your public P-256 key (alg "+
	"ECDH-ES, enc A128GCM or A256GCM)")

// EncryptionRequired reports whether answers about rec must be encrypted: the deployment requires it, or the
// definition the exchange issues does.
func (s *Service) EncryptionRequired(rec *exchange.Record) bool {
	return s.cfg.ResponseEncryptionRequired || rec.Definition.EncryptionRequired
}

// checkResponseEncryption refuses a request without response encryption where it is required.
func (s *Service) checkResponseEncryption(rec *exchange.Record, enc *oid4vci.ResponseEncryption) error {
	if enc == nil && s.EncryptionRequired(rec) {
		return errEncryptionRequired
	}
	return nil
}

// recordResponseEncryption keeps what the wallet asked for in the record (alg, enc, zip, its public JWK); a
// request in the clear leaves the field as it was.
func recordResponseEncryption(next *exchange.Record, enc *oid4vci.ResponseEncryption) {
	if enc != nil {
		next.CredentialResponseEncryption = enc.Record()
	}
}
