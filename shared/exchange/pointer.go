package exchange

// Pointer is an item that finds an exchange by the hash of a secret (offer id, pre-authorized code, access
// token, c_nonce, transaction id, notification id). It expires at ExpiresAt (unix seconds).
type Pointer struct {
	// Key is PointerKey(kind, secret).
	Key string
	// ExchangeID is the exchange it points to ("" for pointers of no exchange, e.g. c_nonces).
	ExchangeID string
	// ExpiresAt is the pointer's TTL (unix seconds).
	ExpiresAt int64
	// Attributes carries small non-secret data of the pointer (e.g. the credential index of a transaction id).
	Attributes map[string]string
}

// PointerOp is one pointer change written in the same transaction as an exchange update: Put creates a pointer
// (it must not exist), Consume deletes one that must exist and be unexpired (single use).
type PointerOp struct {
	Put     *Pointer
	Consume string
}

// Expect is the condition of an exchange update: the version and status the writer read.
type Expect struct {
	Version int64
	Status  Status
}

// PointerPickup is the pointer kind of a picked-up transaction id (PICKUP#<hex SHA-256 of the transaction id>):
// written in the pick-up transaction that consumes the TXN pointer, it keeps the dialect, proof shape and format
// of the answer (no keys, no credentials) until the access token expires, so that a retry after a lost pick-up
// answer can be answered again in the same shape.
const PointerPickup = "PICKUP"
