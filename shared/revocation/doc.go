// Package revocation holds the Token Status List use cases: allocation of a status list entry for each
// credential of a revocable exchange (it is the wallet's StatusAllocator), revocation, suspension and
// reinstatement of an exchange's credentials through its revocation item (which outlives the exchange record),
// and the signed status list token served to relying parties. It depends only on the interfaces it declares
// (Store, a statuslist.Signer) and on the exchange.Runtime it is given.
package revocation
