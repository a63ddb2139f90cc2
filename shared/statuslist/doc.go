// Package statuslist implements the IETF Token Status List (draft-ietf-oauth-status-list) for the issuer: the
// status list itself (bits 1, 2, 4 or 8 per credential, least significant bits first, ZLIB-compressed and
// base64url-encoded as `lst`), the signed status list token (`typ` statuslist+jwt), the `status` claim a credential
// carries, and the pure logic of sharding credentials over many lists so that index allocation never hits a hot
// DynamoDB item (see Layout and docs/status-lists.md).
//
// The package does no I/O: storage, allocation in DynamoDB and the HTTP endpoint live elsewhere and call it.
package statuslist
