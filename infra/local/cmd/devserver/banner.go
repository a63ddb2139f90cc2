package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// bannerInfo is what the dev server prints once it serves.
type bannerInfo struct {
	issuerURL string // ISSUER_URL, the credential issuer identifier
	localURL  string // where the gateway listens
	basePath  string // the issuer URL's path ("" or e.g. "/stage"), under which the gateway serves the API
	adminKey  string
	keySource keySource
	keyPath   string
	dataDir   string
	caRoot    string // the local root CA certificate (PEM) credentials chain to
}

// adminBase is the admin API's base path (docs/design.md).
const adminBase = "/v2/config/digital-wallet/openid/sdjwt"

// sampleDefinition and sampleOffer are the bodies of the copy-paste curls.
const (
	sampleDefinition = `{"label":"Employee ID","credentialFormat":"dc+sd-jwt","vct":"EmployeeID","expirationInDays":365,` +
		`"supportRevocation":true,"claims":[{"path":["given_name"],"mandatory":true,"limitDisclosure":true},` +
		`{"path":["family_name"],"mandatory":true,"limitDisclosure":true}],"display":[{"name":"Employee ID","locale":"en-GB"}]}`
	sampleInlineOffer = `{"issuanceMode":"InTime","userPin":"4821","credential":{"type":["VerifiableCredential","EmployeeID"],` +
		`"credentialSubject":{"given_name":"Erika","family_name":"Mustermann"}}}`
	sampleDefinitionOffer = `{"issuanceMode":"InTime","userPin":"4821","credentialDefinitionId":"'"$DEF_ID"'",` +
		`"credential":{"credentialSubject":{"given_name":"Erika","family_name":"Mustermann"}}}`
)

// printBanner writes the issuer URL, the admin API key, the metadata URL and copy-paste curls that create an
// offer. It goes to stdout, not to the log: the key is shown to the person who started the server, once.
func printBanner(w io.Writer, b bannerInfo) {
	var keyNote string
	switch b.keySource {
	case keyFromEnv:
		keyNote = "(from ADMIN_API_KEY)"
	case keyGenerated:
		keyNote = fmt.Sprintf("(generated; kept in %s; set ADMIN_API_KEY to choose one)", b.keyPath)
	case keyReused:
		keyNote = fmt.Sprintf("(kept in %s from an earlier run; `make run CLEAN=1` starts empty with a new one)", b.keyPath)
	}
	auth := "Authorization: ApiKey " + b.adminKey
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nsdjwt-issuer is running locally (Ctrl-C stops it).\n\n")
	fmt.Fprintf(&sb, "  Console:        %s/console  (open it in a browser, paste the admin API key below)\n", b.localURL)
	fmt.Fprintf(&sb, "  Issuer URL:     %s\n", b.issuerURL)
	fmt.Fprintf(&sb, "  Admin API key:  %s  %s\n", b.adminKey, keyNote)
	api := b.localURL + b.basePath
	fmt.Fprintf(&sb, "  Metadata:       %s/.well-known/openid-credential-issuer%s\n", b.localURL, b.basePath)
	if b.basePath != "" {
		fmt.Fprintf(&sb, "                  %s/.well-known/openid-credential-issuer (appended, for draft wallets)\n", api)
	}
	fmt.Fprintf(&sb, "  Events:         %s/_local/events\n", b.localURL)
	fmt.Fprintf(&sb, "  Data:           %s\n", b.dataDir)
	if b.caRoot != "" {
		fmt.Fprintf(&sb, "  Issuer root CA: %s  (credentials carry x5c chaining to it: point a verifier there)\n", b.caRoot)
	}
	sb.WriteString("\n")
	fmt.Fprintf(&sb, "A holder wallet for trying offers without a phone: go run ./infra/wallet -pin <PIN> '<offer link>'\n\n")
	fmt.Fprintf(&sb, "Or from a shell: create an InTime offer (transaction code 4821) in one call:\n\n")
	fmt.Fprintf(&sb, "  curl -s -X POST %s \\\n    -H %s -H 'Content-Type: application/json' \\\n    -d %s\n\n",
		shellQuote(api+adminBase+"/credential/issue"), shellQuote(auth), shellQuote(sampleInlineOffer))
	fmt.Fprintf(&sb, "Or create a credential definition first, then an offer for it:\n\n")
	fmt.Fprintf(&sb, "  DEF_ID=$(curl -s -X POST %s \\\n    -H %s -H 'Content-Type: application/json' \\\n    -d %s \\\n"+
		"    | sed -E 's/.*\"credentialDefinitionId\":\"([^\"]+)\".*/\\1/')\n",
		shellQuote(api+adminBase+"/credential-definition"), shellQuote(auth), shellQuote(sampleDefinition))
	fmt.Fprintf(&sb, "  curl -s -X POST %s \\\n    -H %s -H 'Content-Type: application/json' \\\n    -d '%s'\n\n",
		shellQuote(api+adminBase+"/credential/issue"), shellQuote(auth), sampleDefinitionOffer)
	_, _ = io.WriteString(w, sb.String())
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// displayPath shortens path relative to the working directory when it lies below it.
func displayPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
