// Command withstack starts one local stack (DynamoDB Local and local-kms), runs a command with the stack
// exported in its environment, stops the stack and exits with the command's exit code:
//
//	go run ./infra/local/cmd/withstack -- go test ./...
//
// The command sees the LOCALSTACK_* variables (localstack.ForTest attaches to them) and the SDK-standard ones
// (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_KMS, AWS_REGION, dummy credentials, TABLE_NAME, KMS_KEY_ID).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("withstack", flag.ContinueOnError)
	dataDir := fs.String("data", "", "keep DynamoDB and KMS data in `DIR` (default: in memory)")
	clean := fs.Bool("clean", false, "wipe the data directory first")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: withstack [-data DIR] [-clean] -- command [args...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	args := fs.Args()
	if len(args) == 0 {
		fs.Usage()
		return 2
	}

	stack, err := localstack.Start(context.Background(), localstack.Options{DataDir: *dataDir, Clean: *clean})
	if err != nil {
		fmt.Fprintf(os.Stderr, "withstack: %v\n", err)
		return 1
	}
	defer stack.Stop()
	fmt.Fprintf(os.Stderr, "withstack: local stack up in %v (DynamoDB %s, KMS %s)\n",
		stack.StartDuration.Round(time.Millisecond), stack.DynamoDBEndpoint, stack.KMSEndpoint)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(append(os.Environ(), stack.Env()...), stack.ExportEnv()...)

	// Forward INT and TERM (a Ctrl-C in a terminal reaches the command too; a second INT is harmless to go test)
	// and keep running until the command is gone, so that the stack is stopped after it.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "withstack: %v\n", err)
		return 127
	}
	go func() {
		for sig := range signals {
			_ = cmd.Process.Signal(sig)
		}
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "withstack: %v\n", err)
		return 1
	}
}
