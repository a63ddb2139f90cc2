// Command bench measures the issuer's performance figures in one run and holds them to the goals of issue 7
// (docs/benchmarks.md). `make bench` runs it inside a local stack (infra/local/bench.sh) after `make build`:
//
//	go run ./infra/bench -bootstraps bin
//
// It prints one line per figure, `BENCH <name> <value> <unit>`, then a table with PASS or MISS per goal:
//   - sdjwt_issue_us, es256_sign_us: sdjwt.IssueVC of the reference credential (local P-256 key) and one raw
//     ES256 JWS over the same payload, in this process;
//   - mdoc_issue_us, jwtvc_issue_us: the reference credential's claims issued as an mdoc (12 data elements,
//     mdoc.Issuer) and as a jwt_vc_json credential (jwtvc.Issue), same key, held to the same ratio to es256_sign_us;
//   - sdjwt_js_issue_us: @sd-jwt/sd-jwt-vc issuing the same credential (infra/interop/bench_issue.cjs);
//   - flow_request_aws_calls, flow_publisher_putevents_calls, load_events_per_putevents: the AWS calls of the
//     request path of one flow (the functions publish nothing: their writes reach the publisher through the
//     table's stream), the publisher's PutEvents for that flow's events, and events per PutEvents in the load run;
//   - flow_dynamodb_calls, flow_kms_sign_calls: every AWS call attempt of one warm full InTime flow (issue,
//     offer, token, nonce, credential, notification), counted by an SDK middleware; KMS Sign per credential;
//   - authcode_flow_dynamodb_calls, authcode_flow_kms_sign_calls: the same of one warm full authorization code flow
//     (issue, offer, PAR, authorization endpoint, the holder's ID token to direct_post, token with code_verifier,
//     nonce, credential, notification): KMS Sign for the ID token request object and the credential;
//   - flow_dpop_dynamodb_calls: the same with a DPoP-bound token (its token request first without a server
//     nonce, retried on use_dpop_nonce): DPoP replay protection must add no call;
//   - haip_credential_request_us, bearer_credential_request_us, haip_token_checks_us: the CPU of a credential
//     request's checks and issuance (local P-256 key, no store) with and without DPoP, and of the token
//     endpoint's DPoP and client attestation checks;
//   - flow_p50_ms, flow_p99_ms, flow_per_s: many full flows at concurrency -c through the local gateway over
//     loopback HTTP, bounded by -flows and -max-time;
//   - coldstart_<function>_ms: process start to the first answer of each function under aws-lambda-rie (built
//     for this machine), median of -coldstart-runs;
//   - bootstrap_max_mb: the largest linux/arm64 bootstrap under -bootstraps.
//
// The exit code is 0 when every figure was measured (goals missed included) and 1 when a measurement failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/load/flow"
	"github.com/sdjwt-issuer/issuer/infra/load/inproc"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
)

func main() {
	testing.Init()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// settings are the flags of a run.
type settings struct {
	flows, conc, coldRuns, jsN int
	maxTime                    time.Duration
	bootstraps, only           string
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s settings
	fs.IntVar(&s.flows, "flows", 400, "full flows of the concurrency run (bounded also by -max-time)")
	fs.IntVar(&s.conc, "c", 8, "flows in flight at once")
	fs.DurationVar(&s.maxTime, "max-time", 60*time.Second, "stop starting flows after this long")
	fs.IntVar(&s.coldRuns, "coldstart-runs", 5, "cold starts per function (the median is reported)")
	fs.IntVar(&s.jsN, "js-n", 1000, "issuances of the @sd-jwt/sd-jwt-vc run")
	fs.StringVar(&s.bootstraps, "bootstraps", "bin", "directory of `make build`'s <function>/bootstrap")
	fs.StringVar(&s.only, "only", "", "comma-separated parts to run: issue,haip,js,flow,coldstart,size (default all)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if s.flows < 1 || s.flows > 100000 || s.conc < 1 || s.conc > 64 || s.coldRuns < 1 || s.coldRuns > 20 ||
		s.jsN < 1 || s.maxTime <= 0 || s.maxTime > 10*time.Minute {
		fmt.Fprintln(stderr, "bench: flag out of range (flows 1-100000, c 1-64, coldstart-runs 1-20, max-time up to 10m)")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := inproc.ModuleRoot()
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	f, failures := measure(ctx, root, s, stderr)
	printFigures(stdout, f)
	printTable(stdout, f, evaluate(f))
	if len(failures) > 0 {
		for _, e := range failures {
			fmt.Fprintf(stderr, "bench: %v\n", e)
		}
		return 1
	}
	return 0
}

func wanted(only, part string) bool {
	if only == "" {
		return true
	}
	for _, p := range strings.Split(only, ",") {
		if strings.TrimSpace(p) == part {
			return true
		}
	}
	return false
}

// measure takes every figure asked for; a part that fails is reported and the others still run.
func measure(ctx context.Context, root string, s settings, log io.Writer) (*figures, []error) {
	f := &figures{}
	var failures []error
	step := func(what string) time.Time {
		fmt.Fprintf(log, "bench: %s...\n", what)
		return time.Now()
	}
	if wanted(s.only, "issue") {
		t := step("sdjwt issuance and ES256 signature")
		issue, sign, err := benchIssue()
		if err != nil {
			failures = append(failures, err)
		} else {
			f.add("sdjwt_issue_us", issue, "us", "reference credential, 12 disclosures, local P-256 key")
			f.add("es256_sign_us", sign, "us", "one ES256 JWS, same payload, same path (keys.SignJWS)")
		}
		fmt.Fprintf(log, "bench:   %v\n", time.Since(t).Round(time.Millisecond))
		t = step("credential response encryption")
		encUS, zipUS, size, zipSize, err := benchEncryption()
		if err != nil {
			failures = append(failures, err)
		} else {
			f.add("response_encrypt_us", encUS, "us", fmt.Sprintf("added per encrypted credential response: ECDH-ES P-256 + A256GCM, reference credential, %d-byte JWE", size))
			f.add("response_encrypt_zip_us", zipUS, "us", fmt.Sprintf("the same with zip DEF, %d-byte JWE", zipSize))
		}
		fmt.Fprintf(log, "bench:   %v\n", time.Since(t).Round(time.Millisecond))
		t = step("mdoc and JWT VC issuance")
		mdocUS, jwtvcUS, err := benchFormats()
		if err != nil {
			failures = append(failures, err)
		} else {
			f.add("mdoc_issue_us", mdocUS, "us", "reference claims as 12 mdoc data elements, local P-256 key")
			f.add("jwtvc_issue_us", jwtvcUS, "us", "reference claims as a jwt_vc_json credential, local P-256 key")
		}
		fmt.Fprintf(log, "bench:   %v\n", time.Since(t).Round(time.Millisecond))
	}
	if wanted(s.only, "haip") {
		t := step("HAIP: DPoP-bound, attested requests (local key, no store)")
		hf, err := benchHAIP()
		if err != nil {
			failures = append(failures, err)
		} else {
			f.add("haip_credential_request_us", hf.dpopRequest, "us", "credential request with a DPoP-bound token: DPoP proof, binding, key proof, issuance, self-check")
			f.add("bearer_credential_request_us", hf.bearerRequest, "us", "the same request with a bearer token")
			f.add("haip_token_checks_us", hf.tokenChecks, "us", "token endpoint: DPoP proof and client attestation (x5c chain) with its PoP")
		}
		fmt.Fprintf(log, "bench:   %v\n", time.Since(t).Round(time.Millisecond))
	}
	if wanted(s.only, "js") {
		t := step("@sd-jwt/sd-jwt-vc issuance")
		us, err := benchJS(ctx, root, testkit.NodeModulesDir(root), s.jsN)
		if err != nil {
			failures = append(failures, err)
		} else {
			f.add("sdjwt_js_issue_us", us, "us", fmt.Sprintf("@sd-jwt/sd-jwt-vc, same credential, node %d issuances", s.jsN))
		}
		fmt.Fprintf(log, "bench:   %v\n", time.Since(t).Round(time.Millisecond))
	}
	var stack *localstack.Stack
	if wanted(s.only, "flow") || wanted(s.only, "coldstart") {
		var err error
		stack, err = attachStack(ctx, log)
		if err != nil {
			return f, append(failures, err)
		}
		defer stack.Stop()
	}
	if wanted(s.only, "flow") {
		t := step(fmt.Sprintf("full flows through the local gateway (%d at concurrency %d, at most %v)", s.flows, s.conc, s.maxTime))
		ff, err := benchFlow(ctx, stack, s.flows, s.conc, s.maxTime)
		if err != nil {
			failures = append(failures, err)
		} else {
			f.add("flow_dynamodb_calls", ff.dynamoDB, "calls", opsNote(ff.byOperation, "DynamoDB."))
			for i := range flow.NumSteps {
				fmt.Fprintf(log, "bench:   AWS calls of %-12s %s\n", flow.Step(i).String()+":", opsNote(ff.perStep[flow.Step(i)], ""))
			}
			f.add("flow_dpop_dynamodb_calls", ff.dpopDynamoDB, "calls", fmt.Sprintf("the same flow with a DPoP-bound token, %d use_dpop_nonce retry: %s",
				ff.dpopNonceRetries, opsNote(ff.dpopByOperation, "DynamoDB.")))
			f.add("flow_kms_sign_calls", ff.kmsSign, "calls", "KMS Sign per credential (one credential per flow)")
			for _, st := range []flow.Step{flow.StepPushedAuthorization, flow.StepAuthorize, flow.StepDirectPost, flow.StepToken} {
				fmt.Fprintf(log, "bench:   AWS calls of %-12s %s (authorization code flow)\n", st.String()+":", opsNote(ff.authcodePerStep[st], ""))
			}
			f.add("authcode_flow_dynamodb_calls", ff.authcodeDynamoDB, "calls", "one full authorization code flow (PAR, "+
				"authorization endpoint, ID token, code): "+opsNote(ff.authcodeByOperation, "DynamoDB."))
			f.add("authcode_flow_kms_sign_calls", ff.authcodeKMSSign, "calls", "KMS Sign per authorization code flow: "+
				"the ID token request object and the credential")
			f.add("flow_request_aws_calls", ff.requestCalls, "calls", "every AWS call of the request path (no PutEvents: "+
				"the events come from the table's stream)")
			f.add("flow_publisher_putevents_calls", ff.publisherCalls, "calls", fmt.Sprintf("the publisher's, for the %d events "+
				"of one flow alone (at most one batch per step's write; fewer when the local poller finds two writes at once)", ff.flowEvents))
			if ff.loadPutEvents > 0 {
				f.add("load_events_per_putevents", float64(ff.loadEvents)/float64(ff.loadPutEvents), "events",
					fmt.Sprintf("%d events in %d PutEvents calls during the concurrency run", ff.loadEvents, ff.loadPutEvents))
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			note := fmt.Sprintf("%d flows at concurrency %d", ff.stats.Completed, s.conc)
			f.add("flow_p50_ms", ms(ff.stats.Percentile(50)), "ms", note)
			f.add("flow_p99_ms", ms(ff.stats.Percentile(99)), "ms", note)
			f.add("flow_per_s", ff.stats.PerSecond(), "flows/s", note+steps(ff.stats))
		}
		fmt.Fprintf(log, "bench:   %v\n", time.Since(t).Round(time.Millisecond))
	}
	if wanted(s.only, "coldstart") {
		t := step(fmt.Sprintf("cold starts under aws-lambda-rie (%d per function)", s.coldRuns))
		rie := filepath.Join(root, ".tools", "bin", "aws-lambda-rie")
		cs, err := benchColdStarts(ctx, root, rie, stack, s.coldRuns)
		if err != nil {
			failures = append(failures, err)
		} else {
			names := make([]string, 0, len(cs))
			for fn := range cs {
				names = append(names, fn)
			}
			sort.Strings(names)
			for _, fn := range names {
				f.add("coldstart_"+strings.ReplaceAll(fn, "-", "_")+"_ms", float64(cs[fn].total.Microseconds())/1000, "ms",
					fmt.Sprintf("median of %d, first answer HTTP %d", s.coldRuns, cs[fn].status))
			}
		}
		fmt.Fprintf(log, "bench:   %v\n", time.Since(t).Round(time.Millisecond))
	}
	if wanted(s.only, "size") {
		dirs, err := functionDirs(root)
		if err == nil {
			var sizes map[string]int64
			sizes, err = bootstrapSizes(filepath.Join(root, s.bootstraps), dirs)
			if err == nil {
				var maxFn string
				var maxSize int64
				for fn, n := range sizes {
					if n > maxSize || (n == maxSize && fn < maxFn) {
						maxFn, maxSize = fn, n
					}
				}
				f.add("bootstrap_max_mb", float64(maxSize)/(1<<20), "MiB", "linux/arm64, largest: "+maxFn)
			}
		}
		if err != nil {
			failures = append(failures, err)
		}
	}
	return f, failures
}

// attachStack attaches to the stack the wrapper exported, or starts one (stopped by the caller).
func attachStack(ctx context.Context, log io.Writer) (*localstack.Stack, error) {
	if s, ok := localstack.FromEnv(os.Getenv); ok {
		if err := s.Ping(ctx); err != nil {
			return nil, fmt.Errorf("exported local stack: %w", err)
		}
		return s, nil
	}
	fmt.Fprintln(log, "bench: starting a local stack")
	s, err := localstack.Start(ctx, localstack.Options{})
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return s, nil
}

// opsNote lists the counts of the operations with prefix: "GetItem 3, TransactWriteItems 2".
func opsNote(byOp map[string]int, prefix string) string {
	var parts []string
	for op, n := range byOp {
		if strings.HasPrefix(op, prefix) {
			parts = append(parts, fmt.Sprintf("%s %d", strings.TrimPrefix(op, prefix), n))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// steps is the mean of each step, " (issue 4.1, offer 2.0, ...) ms".
func steps(st flow.Stats) string {
	parts := make([]string, 0, flow.NumSteps)
	for i, d := range st.StepMeans {
		parts = append(parts, fmt.Sprintf("%s %.1f", flow.Step(i), float64(d.Microseconds())/1000))
	}
	return "; mean ms: " + strings.Join(parts, ", ")
}
