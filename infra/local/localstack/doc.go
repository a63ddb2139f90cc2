// Package localstack runs the AWS services the issuer needs on this machine: DynamoDB Local (the jar shipped in
// the pinned npm package amplify-dynamodb-simulator, run with the machine's Java) and local-kms, both installed
// into <repo>/.tools by infra/local/install.sh (`make tools`).
//
// Start brings up one stack with the issuer's table and signing key; ForTest gives a test the stack that the test
// wrapper (cmd/withstack) exported, or starts one for that test; RunMain shares one stack among the tests of a
// package. The dev server and the test wrapper use the same Start.
package localstack
