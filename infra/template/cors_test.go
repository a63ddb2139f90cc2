package template

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corsFunctions serve the public documents and the wallet endpoints, which browser wallets and web verifiers call
// cross-origin (their routers are built with apigw.WithCORS); no other function's route may answer a preflight
// (the admin API, and the console, which is same-origin).
var corsFunctions = map[string]bool{"MetadataFunction": true, "AuthorizeFunction": true, "TokenFunction": true, "CredentialFunction": true,
	"DeferredCredentialFunction": true, "NotificationFunction": true}

// TestPreflightsOfTheTemplate: every route of the public documents and wallet endpoints has a CORS preflight
// answered by API Gateway with its methods, the headers wallets send (DPoP, attestations) and any origin; no other
// path has one.
func TestPreflightsOfTheTemplate(t *testing.T) {
	routes, err := Routes(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	preflights, err := Preflights(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]Preflight{}
	for _, p := range preflights {
		byPath[p.Path] = p
		if strings.HasPrefix(p.Path, "/v2/") {
			t.Errorf("admin path %s answers CORS preflights", p.Path)
		}
	}
	methods := map[string][]string{}
	for _, r := range routes {
		if corsFunctions[r.FunctionLogicalID] {
			methods[r.Path] = append(methods[r.Path], r.Method)
		}
	}
	if len(methods) == 0 {
		t.Fatal("no public route")
	}
	for path, ms := range methods {
		p, ok := byPath[path]
		if !ok {
			t.Errorf("route %s of the wallet functions has no CORS preflight", path)
			continue
		}
		sort.Strings(ms)
		if want := strings.Join(ms, ",") + ",OPTIONS"; p.Headers["Access-Control-Allow-Methods"] != want {
			t.Errorf("%s: Allow-Methods %q, want %q", path, p.Headers["Access-Control-Allow-Methods"], want)
		}
		if p.Headers["Access-Control-Allow-Origin"] != "*" || p.Status != 204 {
			t.Errorf("%s: %+v", path, p)
		}
		for _, h := range []string{"Authorization", "Content-Type", "DPoP", "OAuth-Client-Attestation", "OAuth-Client-Attestation-PoP"} {
			if !strings.Contains(","+p.Headers["Access-Control-Allow-Headers"]+",", ","+h+",") {
				t.Errorf("%s: Allow-Headers lacks %s", path, h)
			}
		}
	}
	for path := range byPath {
		if _, ok := methods[path]; !ok {
			t.Errorf("preflight of %s, which no wallet function serves", path)
		}
	}
}

func TestPreflightsRefusesWhatAPIGatewayWouldNotAnswerStatically(t *testing.T) {
	const head = "AWSTemplateFormatVersion: \"2010-09-09\"\nTransform: AWS::Serverless-2016-10-31\nResources:\n" +
		"  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: dev\n      DefinitionBody:\n" +
		"        paths:\n          /x:\n            options:\n              x-amazon-apigateway-integration:\n"
	for name, integration := range map[string]string{
		"not mock":      "                type: aws_proxy\n",
		"no status":     "                type: mock\n                responses: {default: {}}\n",
		"dynamic value": "                type: mock\n                responses: {default: {statusCode: \"204\", responseParameters: {method.response.header.A: method.request.header.B}}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(head+integration), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Preflights(path); err == nil || !strings.Contains(err.Error(), "OPTIONS /x") {
				t.Errorf("Preflights = %v", err)
			}
		})
	}
}
