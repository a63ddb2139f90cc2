// Command wallet plays a holder wallet for one credential offer, to try the issuer without a phone (the console
// shows this command with the offer filled in):
//
//	go run ./infra/wallet [-pin 123456] [-client-id ID] [-notify accepted|failure|deleted|none] [-description TEXT] [-wait 10m] '<offer link>'
//
// It fetches the offer, redeems the pre-authorized code (with the PIN when the offer asks for one; asked on the
// terminal when -pin is missing), proves a fresh P-256 key, receives the credential (waiting at the deferred
// endpoint while the organisation has not completed a Deferred exchange), checks its signature against the
// issuer's published keys (an SD-JWT VC, a JWT VC, or an mdoc whose document signer certificate holds such a key),
// prints the claims and the credential, and notifies the issuer.
package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
	"github.com/sdjwt-issuer/issuer/shared/jwtvc"
	"github.com/sdjwt-issuer/issuer/shared/mdoc"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// events maps the -notify values to notification events.
var events = map[string]string{"accepted": "credential_accepted", "failure": "credential_failure",
	"deleted": "credential_deleted", "none": "none"}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wallet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pin := fs.String("pin", "", "the transaction code (PIN) of the offer, if it has one")
	clientID := fs.String("client-id", "", "client_id to send in the token request")
	notify := fs.String("notify", "accepted", "notification after receiving: accepted, failure, deleted or none")
	description := fs.String("description", "", "event_description of the notification")
	wait := fs.Duration("wait", 10*time.Minute, "how long to wait for a deferred credential")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./infra/wallet [flags] '<offer link>'\n\n"+
			"Plays a holder wallet for one credential offer (the link the console or the issue call shows).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	event, ok := events[*notify]
	if fs.NArg() != 1 || !ok {
		fs.Usage()
		return 2
	}
	client := &flow.Client{HTTP: &http.Client{Timeout: 30 * time.Second}}
	opts := flow.ReceiveOptions{TxCode: *pin, ClientID: *clientID, Notify: event, Description: *description, Wait: *wait,
		Progress: func(s string) { fmt.Fprintln(stdout, "wallet:", s) }}
	got, err := client.Receive(ctx, fs.Arg(0), opts)
	if errors.Is(err, flow.ErrNeedTxCode) {
		typed, askErr := askPIN(stdin, stdout)
		if askErr != nil {
			fmt.Fprintf(stderr, "wallet: %v: pass it with -pin\n", err)
			return 1
		}
		opts.TxCode = typed
		got, err = client.Receive(ctx, fs.Arg(0), opts)
	}
	if err != nil {
		fmt.Fprintf(stderr, "wallet: %v\n", err)
		return 1
	}
	return report(ctx, client, got, stdout, stderr)
}

// askPIN reads the PIN from a terminal; it fails when stdin is not one.
func askPIN(stdin io.Reader, stdout io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); !ok || f == nil {
		return "", errors.New("no terminal")
	} else if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return "", errors.New("no terminal")
	}
	fmt.Fprint(stdout, "wallet: the offer asks for a PIN (transaction code): ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" {
		if err == nil {
			err = errors.New("no PIN typed")
		}
		return "", err
	}
	return line, nil
}

// report verifies each credential against the issuer's keys and prints its claims and the credential itself.
func report(ctx context.Context, client *flow.Client, got flow.Received, stdout, stderr io.Writer) int {
	keys, err := client.IssuerKeys(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "wallet: read the issuer's keys: %v\n", err)
		return 1
	}
	for i, raw := range got.Credentials {
		kind, claims, err := verifyCredential(raw, keys)
		if err != nil {
			fmt.Fprintf(stderr, "wallet: credential %d does not verify: %v\n", i+1, err)
			return 1
		}
		out, _ := json.MarshalIndent(claims, "", "  ")
		fmt.Fprintf(stdout, "\nCredential %d (signature checked with the issuer's published key), its claims with every disclosure:\n%s\n\n%s:\n%s\n",
			i+1, out, kind, raw)
	}
	return 0
}

// verifyCredential checks a credential of any of the issuer's formats against its published keys and returns
// the format's name and the claims: an SD-JWT VC (JWT~disclosures~) with every disclosure, a JWT VC (a JWS) with
// its claims, an mdoc (base64url CBOR) with its namespaces, after checking that its document signer certificate
// holds one of the published keys.
func verifyCredential(raw string, keys jwk.Set) (string, any, error) {
	switch {
	case strings.Contains(raw, "~"):
		v, err := sdjwt.Verify(raw, sdjwt.WithIssuerKeySet(keys))
		if err != nil {
			return "", nil, err
		}
		return "SD-JWT", v.Claims, nil
	case strings.Count(raw, ".") == 2:
		v, err := jwtvc.Verify(raw, keys, time.Now())
		if err != nil {
			return "", nil, err
		}
		return "JWT VC", v.Claims, nil
	}
	b, err := mdoc.DecodeCredential(raw)
	if err != nil {
		return "", nil, err
	}
	chain, err := mdoc.Certificates(b)
	if err != nil {
		return "", nil, err
	}
	if !publishedKey(keys, chain[0].PublicKey) {
		return "", nil, errors.New("the mdoc's document signer certificate does not hold a key of the issuer's jwt-vc-issuer document")
	}
	roots := x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	v, err := mdoc.Verify(b, mdoc.VerifyOptions{Roots: roots})
	if err != nil {
		return "", nil, err
	}
	return "mdoc (base64url IssuerSigned, docType " + v.DocType + ")", printable(v.NameSpaces), nil
}

// printable shows decoded CBOR as JSON would: a tagged date as its text with the tag's name (full-date, tdate), a
// byte string as base64url.
func printable(v any) any {
	switch x := v.(type) {
	case map[string]map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = printable(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = printable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = printable(e)
		}
		return out
	case cbor.Tag:
		names := map[uint64]string{0: "tdate", 1004: "full-date"}
		if name, ok := names[x.Number]; ok {
			return fmt.Sprintf("%v (%s)", x.Content, name)
		}
		return fmt.Sprintf("tag %d: %v", x.Number, printable(x.Content))
	case []byte:
		return "bytes:" + base64.RawURLEncoding.EncodeToString(x)
	}
	return v
}

// publishedKey reports whether pub is one of the keys.
func publishedKey(keys jwk.Set, pub crypto.PublicKey) bool {
	want, err := jwk.FromRaw(pub)
	if err != nil {
		return false
	}
	for i := 0; i < keys.Len(); i++ {
		if k, ok := keys.Key(i); ok {
			if pk, err := k.PublicKey(); err == nil && jwk.Equal(pk, want) {
				return true
			}
		}
	}
	return false
}
