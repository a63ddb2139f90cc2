// Package admin holds the organisation's use cases (the admin API): define credentials, issue an offer and
// deliver it to a wallet endpoint, read, list and delete the history of exchanges, complete or deny a deferred
// exchange, and register individuals' offer endpoints. It depends only on the interfaces it declares (Store,
// OfferDeliverer) and on the exchange.Runtime it is given.
package admin
