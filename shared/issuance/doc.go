// Package issuance holds the issuer's domain: credential definitions, credential exchange records with their
// status machine, and the use cases of the admin API (and, in separate files, of the wallet API). It depends only
// on the small interfaces it declares (store, event publisher, clock, secret source, offer delivery, claim
// policy) and knows nothing of AWS.
package issuance
