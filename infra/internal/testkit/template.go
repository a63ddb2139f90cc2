package testkit

import (
	"sort"
	"testing"

	"github.com/awslabs/goformation/v7"
)

// TemplateFunctions lists the logical IDs of every AWS::Serverless::Function of the SAM template at path,
// sorted; a template that does not parse fails tb.
func TemplateFunctions(tb testing.TB, path string) []string {
	tb.Helper()
	tpl, err := goformation.Open(path)
	if err != nil {
		tb.Fatalf("parse %s: %v", path, err)
	}
	var ids []string
	for id := range tpl.GetAllServerlessFunctionResources() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
