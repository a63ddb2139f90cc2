// Package interop holds the interoperability tests of the credential formats against independent
// implementations (pinned in infra/node): shared/sdjwt against the OpenWallet Foundation's
// @sd-jwt/sd-jwt-vc, shared/mdoc against @animo-id/mdoc (issuer signature, certificate, validity,
// digests, and a DeviceResponse signed with the MSO's device key), shared/jwtvc against jose, run
// through small CommonJS scripts in this directory. The node modules are found through
// NODE_MODULES_DIR, else <repo>/.tools/node/node_modules (installed by `make tools`).
package interop
