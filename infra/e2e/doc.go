// Package e2e holds the end-to-end tests that play a holder wallet over real HTTP against the issuer: the local
// API gateway (infra/gateway) with the routes of template.yaml in front of the functions' handlers
// (handlers.Lambda), backed by DynamoDB Local and local-kms (infra/local/localstack). One suite speaks
// OpenID4VCI by hand, including every error path; another runs the OpenWallet Foundation's wallet library
// (@openid4vc/openid4vci, through infra/interop/oid4vci_schema.cjs) and checks what it receives with
// @sd-jwt/sd-jwt-vc.
package e2e
