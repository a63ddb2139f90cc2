// Package wallet holds the OpenID4VCI protocol's use cases, what a holder's wallet does: fetch an offer by
// reference, redeem the pre-authorized code at the token endpoint, get a c_nonce, request credentials (batch,
// deferred, and the retry after a lost answer), pick up a deferred credential, and send notifications; and the
// metadata documents the wallet reads first. It depends only on the interfaces it declares (Store,
// CredentialSigner, StatusAllocator) and on the exchange.Runtime it is given.
package wallet
