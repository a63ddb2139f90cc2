// Package testkit holds the helpers the tests and tools under infra/ share: the repository root, free loopback
// ports, a Go binary built for a test, node scripts run with the pinned npm packages, a buffer for output written
// concurrently, and the reference credential as @sd-jwt/sd-jwt-vc takes it. Production packages under shared/ must
// not import it.
package testkit
