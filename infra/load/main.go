// Command load runs a bounded number of full InTime pre-authorized flows (issue, offer, token, nonce,
// credential, notification) against a running issuer on this machine, e.g. the dev server of `make run`:
//
//	go run ./infra/load -n 2000 -c 8 -url http://127.0.0.1:3000 -key <admin key printed by make run>
//
// It only talks to loopback addresses, stops after -n flows or -max-time, whichever comes first, and prints
// `BENCH <name> <value> <unit>` lines and a short table. The admin key may also come from ADMIN_API_KEY.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Limits of a load run.
const (
	maxFlows       = 100000
	maxConcurrency = 64
	maxRunTime     = 30 * time.Minute
)

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 2000, "number of full flows to run (at most 100000)")
	c := fs.Int("c", 8, "flows in flight at once (at most 64)")
	base := fs.String("url", "http://127.0.0.1:3000", "the issuer's base URL; loopback only")
	key := fs.String("key", "", "admin API key (default: $ADMIN_API_KEY)")
	maxTime := fs.Duration("max-time", 5*time.Minute, "stop starting flows after this long (at most 30m)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *key == "" {
		*key = getenv("ADMIN_API_KEY")
	}
	if err := checkArgs(*n, *c, *maxTime, *base, *key); err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	client := &flow.Client{BaseURL: *base, AdminKey: *key, HTTP: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *c, MaxConnsPerHost: *c * 2}}}
	def, err := client.CreateDefinition(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	// One warm-up flow: the functions' first requests set up the signing key and caches.
	if _, err := client.Run(ctx, def); err != nil {
		fmt.Fprintf(stderr, "load: warm-up flow: %v\n", err)
		return 1
	}
	st, err := client.Load(ctx, def, flow.LoadOptions{Flows: *n, Concurrency: *c, MaxDuration: *maxTime})
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	Report(stdout, st, *c)
	if st.Failed > 0 || st.Completed == 0 {
		return 1
	}
	return 0
}

// checkArgs keeps a run bounded and on this machine.
func checkArgs(n, c int, maxTime time.Duration, base, key string) error {
	if n < 1 || n > maxFlows {
		return fmt.Errorf("-n %d: want 1 to %d", n, maxFlows)
	}
	if c < 1 || c > maxConcurrency {
		return fmt.Errorf("-c %d: want 1 to %d", c, maxConcurrency)
	}
	if maxTime <= 0 || maxTime > maxRunTime {
		return fmt.Errorf("-max-time %v: want more than 0 and at most %v", maxTime, maxRunTime)
	}
	if key == "" {
		return errors.New("no admin key: pass -key or set ADMIN_API_KEY (make run prints it)")
	}
	return checkLoopback(base)
}

// checkLoopback accepts only http(s) URLs whose host is a loopback address or localhost.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("-url %q: want http://HOST:PORT without a path", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url %q: the load run only targets loopback addresses", base)
	}
	return nil
}

// Report prints the BENCH lines and the table of a load run.
func Report(w io.Writer, st flow.Stats, concurrency int) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Fprintf(w, "BENCH load_flows %d count\n", st.Completed)
	fmt.Fprintf(w, "BENCH load_failed %d count\n", st.Failed)
	fmt.Fprintf(w, "BENCH load_concurrency %d count\n", concurrency)
	fmt.Fprintf(w, "BENCH load_p50_ms %.1f ms\n", ms(st.Percentile(50)))
	fmt.Fprintf(w, "BENCH load_p99_ms %.1f ms\n", ms(st.Percentile(99)))
	fmt.Fprintf(w, "BENCH load_per_s %.1f flows/s\n", st.PerSecond())
	fmt.Fprintf(w, "\n%-14s %10s\n", "step", "mean ms")
	for i, d := range st.StepMeans {
		fmt.Fprintf(w, "%-14s %10.2f\n", flow.Step(i).String(), ms(d))
	}
	fmt.Fprintf(w, "%-14s %10.2f (p50 %.1f, p90 %.1f, p99 %.1f, max %.1f)\n", "full flow", ms(mean(st.Latencies)),
		ms(st.Percentile(50)), ms(st.Percentile(90)), ms(st.Percentile(99)), ms(st.Percentile(100)))
	fmt.Fprintf(w, "%d flows in %.1f s at concurrency %d: %.1f flows/s, %d failed\n", st.Completed,
		st.Elapsed.Seconds(), concurrency, st.PerSecond(), st.Failed)
	keys := make([]string, 0, len(st.Errors))
	for k := range st.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "failure %dx: %s\n", st.Errors[k], k)
	}
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}
