// Package localstack runs the AWS services the issuer needs on this machine: DynamoDB Local (the jar shipped in
// the pinned npm package amplify-dynamodb-simulator, run with the machine's Java) and local-kms, both installed
// into <repo>/.tools by infra/local/install.sh (`make tools`).
//
// Start brings up one stack with the issuer's table and signing key; the dev server and the test wrapper
// (cmd/withstack, which `make test` uses) call it. ForTest gives a test the stack the wrapper exported, and skips
// the test, naming `make test`, when there is none (SkipWithoutStack).
package localstack
