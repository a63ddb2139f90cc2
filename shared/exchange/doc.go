// Package exchange is the credential exchange at the heart of the issuer: the exchange record (what the
// organisation offered, what the wallet did with it, and the internal state kept beside it), its status machine
// (allowedFrom, the one table), the secrets that name an exchange (offer id, pre-authorized code, access token,
// notification id) and their hashes, the pointer items of c_nonces and transaction ids, the errors the store and
// the use cases share, and the Runtime (clock, randomness, event publisher, logger) every use case package is
// configured with. It has no I/O and knows nothing of AWS.
package exchange
