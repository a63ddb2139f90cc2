// Package definition is the credential definition an organisation manages: its spec (label, vct, format,
// validity, claim paths with their selective disclosure and display), the validation that refuses a definition
// the issuer metadata could not describe, the SD-JWT disclosure policy compiled from its claims, the history
// record's disclosureMapping, and the dynamic configurations created by issuing without a definition. No I/O.
package definition
