// Package rie holds the test that runs a real function binary the way Lambda runs it: a `bootstrap` built with
// -tags lambda.norpc, under the AWS Lambda Runtime Interface Emulator (.tools/bin/aws-lambda-rie), against the
// local stack.
package rie
