package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
)

func TestAdminAPIKey(t *testing.T) {
	tests := []struct {
		name       string
		env        string
		kept       string // file content before the call; "" means no file
		clean      bool
		wantSource keySource
		wantKey    string // "" means a new generated key
		wantKept   bool   // the file holds the returned key afterwards
	}{
		{name: "ADMIN_API_KEY wins and is not written", env: "from-env-0123456789", wantSource: keyFromEnv, wantKey: "from-env-0123456789"},
		{name: "ADMIN_API_KEY wins over a kept key", env: " from-env-0123456789 ", kept: "old\n", wantSource: keyFromEnv, wantKey: "from-env-0123456789"},
		{name: "first run generates and keeps", wantSource: keyGenerated, wantKept: true},
		{name: "restart reuses the kept key", kept: "kept-key\n", wantSource: keyReused, wantKey: "kept-key", wantKept: true},
		{name: "clean makes a new key", kept: "kept-key\n", clean: true, wantSource: keyGenerated, wantKept: true},
		{name: "empty file makes a new key", kept: "\n", wantSource: keyGenerated, wantKept: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "local")
			path := filepath.Join(dir, adminKeyFile)
			if tc.kept != "" {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tc.kept), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			key, source, err := adminAPIKey(tc.env, dir, tc.clean)
			if err != nil {
				t.Fatal(err)
			}
			if source != tc.wantSource {
				t.Errorf("source %v, want %v", source, tc.wantSource)
			}
			switch {
			case tc.wantKey != "" && key != tc.wantKey:
				t.Errorf("key %q, want %q", key, tc.wantKey)
			case tc.wantKey == "" && (len(key) < 32 || key == strings.TrimSpace(tc.kept)):
				t.Errorf("generated key %q is short or not new", key)
			}
			b, err := os.ReadFile(path)
			if tc.wantKept {
				if err != nil || strings.TrimSpace(string(b)) != key {
					t.Errorf("kept %q (%v), want %q", b, err, key)
				}
				if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("key file mode %v (%v), want 0600", st.Mode().Perm(), err)
				}
			} else if tc.kept == "" && err == nil {
				t.Errorf("the key from the environment was written to %s", path)
			}
		})
	}
	// docs/security.md, "Weak dev server key": a short ADMIN_API_KEY is refused with the fix in the message.
	for _, short := range []string{"a", "1234", "fifteen-chars15", " fifteen-chars15 "} {
		if _, _, err := adminAPIKey(short, t.TempDir(), false); err == nil || !strings.Contains(err.Error(), "at least 16") {
			t.Errorf("ADMIN_API_KEY=%q: %v, want a refusal naming the 16-character minimum", short, err)
		}
	}
	t.Run("two generated keys differ", func(t *testing.T) {
		a, _, errA := adminAPIKey("", t.TempDir(), false)
		b, _, errB := adminAPIKey("", t.TempDir(), false)
		if errA != nil || errB != nil || a == b {
			t.Errorf("%q %q %v %v", a, b, errA, errB)
		}
	})
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantErr   string
		wantPort  string
		wantURL   string
		wantClean bool
	}{
		{name: "defaults", wantPort: "3000", wantURL: "http://127.0.0.1:3000"},
		{name: "PORT sets the default issuer URL", env: map[string]string{"PORT": "3100"}, wantPort: "3100", wantURL: "http://127.0.0.1:3100"},
		{name: "ISSUER_URL byte for byte", env: map[string]string{"PORT": "3100", "ISSUER_URL": "http://localhost:3100/tenant"},
			wantPort: "3100", wantURL: "http://localhost:3100/tenant"},
		{name: "clean", args: []string{"-clean"}, wantPort: "3000", wantURL: "http://127.0.0.1:3000", wantClean: true},
		{name: "PORT not a number", env: map[string]string{"PORT": "http"}, wantErr: "PORT"},
		{name: "PORT out of range", env: map[string]string{"PORT": "70000"}, wantErr: "PORT"},
		{name: "bad LOG_LEVEL", env: map[string]string{"LOG_LEVEL": "loud"}, wantErr: "LOG_LEVEL"},
		{name: "stray argument", args: []string{"run"}, wantErr: "unexpected arguments"},
		{name: "unknown flag", args: []string{"-fast"}, wantErr: "-fast"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			o, err := parseOptions(tc.args, getenv, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.port != tc.wantPort || o.issuerURL != tc.wantURL || o.clean != tc.wantClean {
				t.Errorf("port %q url %q clean %v", o.port, o.issuerURL, o.clean)
			}
			if !filepath.IsAbs(o.localDir) || filepath.Base(o.localDir) != ".local" || filepath.Base(o.templatePath) != "template.yaml" {
				t.Errorf("dir %q template %q", o.localDir, o.templatePath)
			}
		})
	}
}

func TestBannerCurlsAreShellSafe(t *testing.T) {
	var buf bytes.Buffer
	printBanner(&buf, bannerInfo{issuerURL: "http://127.0.0.1:3000", localURL: "http://127.0.0.1:3000",
		adminKey: "k'ey", keySource: keyGenerated, keyPath: ".local/admin-api-key", dataDir: ".local/data"})
	out := buf.String()
	for _, want := range []string{"Issuer URL:     http://127.0.0.1:3000", "Admin API key:  k'ey",
		"http://127.0.0.1:3000/.well-known/openid-credential-issuer", `'Authorization: ApiKey k'\''ey'`,
		"/credential/issue", "/credential-definition", `"issuanceMode":"InTime"`,
		"Console:        http://127.0.0.1:3000/console", "go run ./infra/wallet"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if _, err := exec.LookPath("bash"); err == nil {
		// Every curl line must parse as shell; bash -n checks syntax without running anything.
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(curlLines(out))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("curls do not parse as shell: %v %s", err, b)
		}
	}
}

// TestBannerWithBasePath: with ISSUER_URL http://127.0.0.1:3000/stage the banner shows the path-inserted metadata
// URL, the appended one, and curls under the base path.
func TestBannerWithBasePath(t *testing.T) {
	var buf bytes.Buffer
	printBanner(&buf, bannerInfo{issuerURL: "http://127.0.0.1:3000/stage", localURL: "http://127.0.0.1:3000",
		basePath: "/stage", adminKey: "key", keySource: keyGenerated, keyPath: ".local/admin-api-key", dataDir: ".local/data"})
	out := buf.String()
	for _, want := range []string{"http://127.0.0.1:3000/.well-known/openid-credential-issuer/stage",
		"http://127.0.0.1:3000/stage/.well-known/openid-credential-issuer",
		"'http://127.0.0.1:3000/stage/v2/config/digital-wallet/openid/sdjwt/credential/issue'"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "'http://127.0.0.1:3000/v2/") {
		t.Errorf("a curl misses the base path:\n%s", out)
	}
}

// curlLines extracts the shell commands of the banner (from the first curl to the end).
func curlLines(banner string) string {
	var sb strings.Builder
	in := false
	for _, line := range strings.Split(banner, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "curl ") || strings.HasPrefix(trimmed, "DEF_ID=") {
			in = true
		}
		if in && strings.HasPrefix(line, "  ") {
			sb.WriteString(trimmed + "\n")
		}
	}
	return sb.String()
}

// devserver is a running dev server binary under test.
type devserver struct {
	cmd    *exec.Cmd
	port   string
	stdout *testkit.SyncBuffer
	stderr *testkit.SyncBuffer
	done   chan error
}

// startDevserver runs the binary from the repository root with a clean environment of its own.
func startDevserver(t *testing.T, bin, port, dir string, extraEnv ...string) *devserver {
	t.Helper()
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-dir", dir)
	cmd.Dir = root
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PORT", "ISSUER_URL", "ADMIN_API_KEY", "LOG_LEVEL", "COMPLETION_EVENT_SOURCE":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, append([]string{"PORT=" + port}, extraEnv...)...)
	d := &devserver{cmd: cmd, port: port, stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = d.stdout, d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

// waitServing waits for the banner, failing early when the process exits.
func (d *devserver) waitServing(t *testing.T) {
	t.Helper()
	deadline := time.After(3 * time.Minute)
	for !strings.Contains(d.stdout.String(), "Admin API key:") {
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("devserver exited (%v) before serving:\n%s", err, d.stderr.String())
		case <-deadline:
			t.Fatalf("devserver did not serve within 3 minutes:\n%s", d.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (d *devserver) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("devserver exited with %v after SIGTERM:\n%s", err, d.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("devserver did not exit within 60 s of SIGTERM:\n%s", d.stderr.String())
	}
}

var keyLine = regexp.MustCompile(`Admin API key:\s+(\S+)`)

func (d *devserver) adminKey(t *testing.T) string {
	t.Helper()
	m := keyLine.FindStringSubmatch(d.stdout.String())
	if m == nil {
		t.Fatalf("no admin API key in the banner:\n%s", d.stdout.String())
	}
	return m[1]
}

// stackEndpoints reads the local stack's endpoints from the JSON log lines.
func (d *devserver) stackEndpoints(t *testing.T) []string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(d.stderr.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if line["msg"] == "local stack started" {
			return []string{fmt.Sprint(line["dynamodb_endpoint"]), fmt.Sprint(line["kms_endpoint"])}
		}
	}
	t.Fatalf("no 'local stack started' log line:\n%s", d.stderr.String())
	return nil
}

// processesMentioning lists the processes whose command line or environment contains s.
func processesMentioning(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to inspect: %v", err)
	}
	var found []string
	for _, e := range entries {
		if strings.Trim(e.Name(), "0123456789") != "" {
			continue
		}
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), f))
			if err == nil && bytes.Contains(b, []byte(s)) {
				found = append(found, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " ")[:min(len(b), 120)])
				break
			}
		}
	}
	return found
}

func getJSON(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "ApiKey "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %v", method, url, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// TestDevserverSmoke runs the real binary: it serves the metadata with credential_issuer equal to ISSUER_URL, the
// printed key creates an offer, SIGTERM stops it and its local stack, and a restart keeps the key and the data.
func TestDevserverSmoke(t *testing.T) {
	localstack.SkipWithoutStack(t)
	bin := testkit.BuildBinary(t, "devserver")
	dir := filepath.Join(t.TempDir(), "local")
	port := testkit.MustFreePort(t)
	base := "http://127.0.0.1:" + port

	d := startDevserver(t, bin, port, dir)
	d.waitServing(t)
	status, meta := getJSON(t, "GET", base+"/.well-known/openid-credential-issuer", "", "")
	if status != 200 || meta["credential_issuer"] != base {
		t.Fatalf("metadata: %d, credential_issuer %v, want %q", status, meta["credential_issuer"], base)
	}
	key := d.adminKey(t)
	consolePage(t, base)
	status, issued := getJSON(t, "POST", base+adminBase+"/credential/issue", key, sampleInlineOffer)
	if status != 200 {
		t.Fatalf("the banner's offer: %d %v", status, issued)
	}
	record, _ := issued["credentialHistory"].(map[string]any)
	exchangeID, _ := record["credentialExchangeId"].(string)
	if exchangeID == "" || !strings.HasPrefix(fmt.Sprint(record["credentialOffer"]), "openid-credential-offer://?credential_offer_uri=") {
		t.Fatalf("offer record %v", record)
	}
	if status, _ := getJSON(t, "POST", base+adminBase+"/credential/issue", "wrong-key", sampleInlineOffer); status != 401 {
		t.Errorf("a wrong key got %d, want 401", status)
	}
	deferredCompletionThroughEventBridge(t, base, key)
	endpoints := d.stackEndpoints(t)
	d.stop(t)
	for _, ep := range endpoints {
		if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(ep, "http://"), time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still answers after the dev server exited", ep)
		}
	}
	if procs := processesMentioning(t, dir); len(procs) > 0 {
		t.Errorf("processes of the local stack outlived the dev server: %v", procs)
	}
	if strings.Contains(d.stderr.String(), key) {
		t.Error("the admin API key reached the log")
	}
	// Claim values of the offers and the offer link (its offer id yields the pre-authorized code) stay out of it.
	offerLink := fmt.Sprint(record["credentialOffer"])
	for _, p := range requestLogProblems(d.stderr.String(), "POST "+adminBase+"/credential/issue",
		"Mustermann", offerLink, offerLink[strings.LastIndex(offerLink, "%2F")+3:]) {
		t.Error(p)
	}

	// A restart with the same directory prints the same key and still has the exchange.
	d2 := startDevserver(t, bin, port, dir)
	d2.waitServing(t)
	if got := d2.adminKey(t); got != key {
		t.Errorf("restart printed key %q, want the kept %q", got, key)
	}
	if status, body := getJSON(t, "GET", base+adminBase+"/credential/history/"+exchangeID, key, ""); status != 200 {
		t.Errorf("the exchange did not survive the restart: %d %v", status, body)
	}
	d2.stop(t)
}

// TestDevserverRefusesTakenPort checks the clear message when PORT is in use, before anything is started.
func TestDevserverRefusesTakenPort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	dir := filepath.Join(t.TempDir(), "local")
	d := startDevserver(t, testkit.BuildBinary(t, "devserver"), port, dir)
	select {
	case err := <-d.done:
		var exit *exec.ExitError
		if err == nil || !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("exit %v, want status 1", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the dev server did not refuse the taken port")
	}
	if msg := d.stderr.String(); !strings.Contains(msg, "port "+port+" is taken") {
		t.Errorf("stderr does not say the port is taken:\n%s", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("the local stack was started despite the taken port")
	}
}

// deferredCompletionThroughEventBridge completes a Deferred exchange the way an organisation's system would: a
// DeferredCredentialReady event put with the AWS SDK on the local event bus, which the template's rule delivers
// to DeferredIssueFunction.
func deferredCompletionThroughEventBridge(t *testing.T, base, key string) {
	t.Helper()
	status, def := getJSON(t, "POST", base+adminBase+"/credential-definition", key, sampleDefinition)
	defID := fmt.Sprint(def["credentialDefinition"].(map[string]any)["credentialDefinitionId"])
	if status != 201 || defID == "" {
		t.Fatalf("create definition: %d %v", status, def)
	}
	status, issued := getJSON(t, "POST", base+adminBase+"/credential/issue", key,
		`{"issuanceMode":"Deferred","credentialDefinitionId":"`+defID+`"}`)
	if status != 200 {
		t.Fatalf("deferred offer: %d %v", status, issued)
	}
	exchangeID := fmt.Sprint(issued["credentialHistory"].(map[string]any)["credentialExchangeId"])
	// docs/security.md, "Open local event bus": the same event without the admin key is refused and lists nothing.
	for _, secret := range []string{"local", key[:len(key)-1]} {
		anon := eventbridge.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(base), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("local", secret, "")})
		if _, err := anon.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("x"), DetailType: aws.String("DeferredCredentialReady"),
			Detail: aws.String(`{"credentialExchangeId":"` + exchangeID + `","credential":{"credentialSubject":{"is_admin":true}}}`)}}}); err == nil {
			t.Fatalf("PutEvents signed with %q was accepted", secret)
		}
	}
	if status, _ := getJSON(t, "GET", base+"/_local/events", "", ""); status != 401 {
		t.Errorf("GET /_local/events without the key: %d, want 401", status)
	}
	rebound, _ := http.NewRequest("GET", base+"/_local/events", nil)
	rebound.Host = "attacker.example:" + strings.TrimPrefix(base[strings.LastIndex(base, ":"):], ":")
	rebound.Header.Set("Authorization", "ApiKey "+key)
	if resp, err := http.DefaultClient.Do(rebound); err != nil || resp.StatusCode != 403 {
		t.Errorf("a rebinding Host: %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}
	client := eventbridge.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(base),
		Credentials: credentials.NewStaticCredentialsProvider("local", key, "")})
	detail := `{"credentialExchangeId":"` + exchangeID + `","credential":{"credentialSubject":{"given_name":"Erika","family_name":"Mustermann"}}}`
	out, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("com.example.hr"), DetailType: aws.String("DeferredCredentialReady"), Detail: aws.String(detail),
		EventBusName: aws.String("local")}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, out)
	}
	eventID := aws.ToString(out.Entries[0].EventId)
	// The completion is delivered, and its committed write comes back from the table's stream as credential.ready
	// (published by the publisher function, version 2), next to the creation's credential.offer_sent.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, listed := getJSON(t, "GET", base+"/_local/events", key, "")
		if delivered(listed, eventID) && published(listed, exchangeID, "credential.offer_sent", 1) &&
			published(listed, exchangeID, "credential.ready", 2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s not delivered, or its events not published, within 30 s: %v", eventID, listed)
		}
		time.Sleep(100 * time.Millisecond)
	}
	status, rec := getJSON(t, "GET", base+adminBase+"/credential/history/"+exchangeID, key, "")
	if got := fmt.Sprint(rec["credentialHistory"].(map[string]any)["credentialStatus"]); status != 200 || got != "ready" {
		t.Errorf("after the DeferredCredentialReady event: %d, credentialStatus %q, want ready", status, got)
	}
}

// delivered reports whether GET /_local/events lists eventID as delivered to DeferredIssueFunction.
func delivered(listed map[string]any, eventID string) bool {
	evs, _ := listed["events"].([]any)
	for _, e := range evs {
		rec, _ := e.(map[string]any)
		ev, _ := rec["event"].(map[string]any)
		if ev["id"] != eventID {
			continue
		}
		ds, _ := rec["deliveries"].([]any)
		for _, d := range ds {
			dm, _ := d.(map[string]any)
			if dm["function"] == "DeferredIssueFunction" && dm["delivered"] == true {
				return true
			}
		}
	}
	return false
}

// published reports whether GET /_local/events lists the issuer's event detailType of exchangeID at version.
func published(listed map[string]any, exchangeID, detailType string, version float64) bool {
	evs, _ := listed["events"].([]any)
	for _, e := range evs {
		rec, _ := e.(map[string]any)
		ev, _ := rec["event"].(map[string]any)
		detail, _ := ev["detail"].(map[string]any)
		if ev["source"] == "sdjwt-issuer" && ev["detail-type"] == detailType && detail["credentialExchangeId"] == exchangeID &&
			detail["version"] == version {
			return true
		}
	}
	return false
}

// consolePage checks that make run serves the console the banner names, with its Content-Security-Policy.
func consolePage(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/console")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
		!strings.Contains(string(body), "console/app.js") {
		t.Errorf("GET /console: %d %q CSP %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"))
	}
}
