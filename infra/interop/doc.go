// Package interop holds the interoperability tests of shared/sdjwt against an independent
// implementation, the OpenWallet Foundation's @sd-jwt/sd-jwt-vc (pinned in infra/node), run
// through small CommonJS scripts in this directory. The node modules are found through
// NODE_MODULES_DIR, else <repo>/.tools/node/node_modules (installed by `make tools`).
package interop
