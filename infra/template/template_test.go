package template

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sdjwt-issuer/issuer/shared/store"
)

// check is one property of the template; it returns what is wrong, nothing when the template is right.
type check struct {
	name string
	run  func(f *fixture) []string
}

var checks = []check{
	{"routes equal docs/design.md", checkRoutes},
	{"functions build from their Makefile targets", checkFunctions},
	{"one REST API", checkAPI},
	{"environment", checkEnvironment},
	{"table equals store.TableDefinition", checkTable},
	{"IAM least privilege", checkFunctionPolicies},
	{"only signing functions use the key", checkSigning},
	{"KMS key", checkKey},
	{"log groups with retention", checkLogGroups},
	{"deferred completion event rule", checkEventRule},
	{"event bus admits only the account", checkEventBusPolicy},
	{"the c_nonce key is generated, not typed", checkNonceKey},
	{"security headers on API Gateway's own responses", checkGatewayResponses},
	{"parameters and outputs", checkParametersOutputs},
	{"issuer URL defaults to the stage URL", checkIssuerURLDefault},
	{"events from the table's stream", checkPublisherStream},
}

func TestTemplate(t *testing.T) {
	f := loadFixture(t, templateFile)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range c.run(f) {
				t.Error(p)
			}
		})
	}
}

func checkRoutes(f *fixture) []string {
	var problems []string
	want := map[Route]bool{}
	for _, r := range f.design.routes {
		want[r] = true
	}
	got := map[Route]bool{}
	for _, r := range f.routes {
		got[r] = true
		if !want[r] {
			problems = append(problems, fmt.Sprintf("template route %s %s -> %s is not in docs/design.md", r.Method, r.Path, r.FunctionLogicalID))
		}
	}
	for _, r := range f.design.routes {
		if !got[r] {
			problems = append(problems, fmt.Sprintf("docs/design.md route %s %s -> %s is not in the template", r.Method, r.Path, r.FunctionLogicalID))
		}
	}
	return problems
}

func checkFunctions(f *fixture) []string {
	var problems []string
	g, err := f.tpl.GetServerlessGlobalFunction()
	if err != nil {
		g = nil
	}
	ids := f.functionIDs()
	var designIDs []string
	for id := range f.design.dirs {
		designIDs = append(designIDs, id)
	}
	if !sameSet(ids, designIDs) {
		sort.Strings(designIDs)
		problems = append(problems, fmt.Sprintf("functions %v, docs/design.md names %v", ids, designIDs))
	}
	for _, id := range ids {
		fn, _ := f.tpl.GetServerlessFunctionWithName(id)
		runtime, handler, codeURI := fn.Runtime, fn.Handler, ""
		arch := fn.Architectures
		if g != nil {
			if runtime == nil {
				runtime = g.Runtime
			}
			if handler == nil {
				handler = g.Handler
			}
			if arch == nil && g.Architectures != nil {
				arch = *g.Architectures
			}
			if fn.CodeUri == nil && g.CodeUri != nil && g.CodeUri.String != nil {
				codeURI = *g.CodeUri.String
			}
		}
		if fn.CodeUri != nil {
			codeURI = aws.ToString(fn.CodeUri.String)
		}
		if aws.ToString(runtime) != "provided.al2023" {
			problems = append(problems, fmt.Sprintf("%s: runtime %q, want provided.al2023", id, aws.ToString(runtime)))
		}
		if !reflect.DeepEqual(arch, []string{"arm64"}) {
			problems = append(problems, fmt.Sprintf("%s: architectures %v, want [arm64]", id, arch))
		}
		if aws.ToString(handler) != "bootstrap" {
			problems = append(problems, fmt.Sprintf("%s: handler %q, want bootstrap", id, aws.ToString(handler)))
		}
		if codeURI != "." {
			problems = append(problems, fmt.Sprintf("%s: CodeUri %q, want . (the Makefile is at the root)", id, codeURI))
		}
		if fn.Role != nil {
			problems = append(problems, fmt.Sprintf("%s: has its own Role, so its Policies are not what it gets", id))
		}
		if bm := fn.AWSCloudFormationMetadata["BuildMethod"]; bm != "makefile" {
			problems = append(problems, fmt.Sprintf("%s: Metadata.BuildMethod %v, want makefile", id, bm))
		}
		dir, ok := f.targets[id]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: the Makefile has no build-%s target", id, id))
			continue
		}
		if want := f.design.dirs[id]; want != "" && want != dir {
			problems = append(problems, fmt.Sprintf("%s: build-%s builds ./functions/%s, docs/design.md says functions/%s", id, id, dir, want))
		}
		if st, err := os.Stat(f.functionDir(id)); err != nil || !st.IsDir() {
			problems = append(problems, fmt.Sprintf("%s: build-%s builds ./functions/%s, which is not a directory", id, id, dir))
		}
	}
	return problems
}

func checkAPI(f *fixture) []string {
	var problems []string
	apis := f.tpl.GetAllServerlessApiResources()
	if len(apis) != 1 {
		return []string{fmt.Sprintf("%d AWS::Serverless::Api resources, want 1", len(apis))}
	}
	var apiID string
	for id, api := range apis {
		apiID = id
		if api.StageName != "${Stage}" {
			problems = append(problems, fmt.Sprintf("%s: StageName %q, want the Stage parameter", id, api.StageName))
		}
		// API Gateway returns a base64 (isBase64Encoded) proxy body as binary only when the client's first Accept
		// type is a binary media type; a browser showing the offer QR code asks for image/avif first, and curl for
		// */*. Only */* makes the PNG arrive as a PNG for every client; handlers decode base64 request bodies.
		if !slices.Contains(api.BinaryMediaTypes, "*~1*") {
			problems = append(problems, fmt.Sprintf("%s: BinaryMediaTypes %v, want */* (\"*~1*\") so that the offer QR "+
				"PNG reaches browsers as binary", id, api.BinaryMediaTypes))
		}
	}
	if n := len(f.tpl.GetAllServerlessHttpApiResources()); n != 0 {
		problems = append(problems, fmt.Sprintf("%d HTTP APIs: handlers expect REST API proxy events v1", n))
	}
	for _, id := range f.functionIDs() {
		fn, _ := f.tpl.GetServerlessFunctionWithName(id)
		for name, ev := range fn.Events {
			switch ev.Type {
			case "Api":
				if ev.Properties == nil || ev.Properties.ApiEvent == nil || aws.ToString(ev.Properties.ApiEvent.RestApiId) != "${"+apiID+"}" {
					problems = append(problems, fmt.Sprintf("%s event %s: not on RestApiId %s", id, name, apiID))
				}
			case "EventBridgeRule":
			default:
				problems = append(problems, fmt.Sprintf("%s event %s: type %s, want Api or EventBridgeRule", id, name, ev.Type))
			}
		}
	}
	return problems
}

func checkEnvironment(f *fixture) []string {
	g, err := f.tpl.GetServerlessGlobalFunction()
	if err != nil || g.Environment == nil {
		return []string{"Globals.Function.Environment is missing"}
	}
	want := map[string][]string{
		"TABLE_NAME":                            {"${IssuerTable}"},
		"KMS_KEY_ID":                            {"${SigningKey}", "${SigningKey.Arn}", "${SigningKeyAlias}"},
		"EVENT_BUS_NAME":                        {"${EventBus}"},
		"EVENT_SOURCE":                          {"${EventSource}"},
		"RETENTION_DAYS":                        {"${RetentionDays}"},
		"LOG_LEVEL":                             nil,
		"RESPONSE_ENCRYPTION_REQUIRED":          {"${ResponseEncryptionRequired}"},
		"ISSUER_CERT_CHAIN":                     {"${IssuerCertificateChain}"},
		"ISSUER_CERT_RENEWAL_DAYS":              {"${IssuerCertificateRenewalDays}"},
		"REQUEST_ENCRYPTION_KMS_KEY_ID":         {"${RequestEncryptionKey.Arn}"},
		"REQUEST_ENCRYPTION_REQUIRED":           {"${RequestEncryptionRequired}"},
		"REQUIRE_DPOP":                          {"${RequireDpop}"},
		"WALLET_TRUST_ANCHORS":                  {"${WalletTrustAnchors}"},
		"CLIENT_ATTESTATION_MAX_LIFETIME_HOURS": {"${ClientAttestationMaxLifetimeHours}"},
		"HOLDER_AUTHENTICATION":                 {"${HolderAuthentication}"},
		"ISSUER_TRUST_ANCHORS":                  {"${IssuerTrustAnchors}"},
	}
	var problems []string
	// The variables chosen by a condition, as written (goformation evaluates Fn::If with the defaults).
	writtenVars, _ := dig(f.written, "Globals", "Function", "Environment", "Variables").(map[string]interface{})
	for name, wantJSON := range conditionalEnvironment {
		var want interface{}
		if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
			panic(err)
		}
		if got := writtenVars[name]; !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			problems = append(problems, fmt.Sprintf("Globals environment: %s = %s, want %s", name, g, wantJSON))
		}
	}
	vars := g.Environment.Variables
	for name, allowed := range want {
		v, ok := vars[name]
		switch {
		case !ok || v == "":
			problems = append(problems, fmt.Sprintf("Globals environment: %s is missing", name))
		case allowed != nil && !contains(allowed, v):
			problems = append(problems, fmt.Sprintf("Globals environment: %s = %q, want one of %v", name, v, allowed))
		}
	}
	for _, id := range f.functionIDs() {
		fn, _ := f.tpl.GetServerlessFunctionWithName(id)
		if fn.Environment == nil {
			continue
		}
		for name := range want {
			if v, ok := fn.Environment.Variables[name]; ok && v != vars[name] {
				problems = append(problems, fmt.Sprintf("%s: overrides %s", id, name))
			}
		}
	}
	return problems
}

// conditionalEnvironment are the Globals variables set by a condition, in the long form of their intrinsics: the
// issuer URL is IssuerUrl, or else read at cold start from the SSM parameter holding the stage URL; the admin
// key hashes come from AdminApiKeyHashes, or from the SSM parameter AdminApiKeyHashesParameter names (resolved by
// CloudFormation at deploy time).
var conditionalEnvironment = map[string]string{
	"ISSUER_URL":           `{"Fn::If": ["IssuerUrlGiven", {"Ref": "IssuerUrl"}, {"Ref": "AWS::NoValue"}]}`,
	"ISSUER_URL_PARAMETER": `{"Fn::If": ["IssuerUrlGiven", {"Ref": "AWS::NoValue"}, {"Fn::Sub": "` + issuerURLParameterName + `"}]}`,
	"ADMIN_API_KEY_HASHES": `{"Fn::If": ["AdminApiKeyHashesFromSsm", {"Fn::Sub": "{{resolve:ssm:${AdminApiKeyHashesParameter}}}"}, {"Ref": "AdminApiKeyHashes"}]}`,
}

// issuerURLParameterName is the SSM parameter of the issuer URL, and issuerURLParameterArn its ARN.
const (
	issuerURLParameterName = "/${AWS::StackName}/issuer-url"
	issuerURLParameterArn  = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + issuerURLParameterName
)

// readsNoConfig are the functions that read no issuer configuration (the console reads only LOG_LEVEL), so they
// are not granted the issuer URL parameter.
var readsNoConfig = []string{"ConsoleFunction", "PublisherFunction"}

// dig walks nested maps along keys; nil when a key is missing.
func dig(v interface{}, keys ...string) interface{} {
	for _, k := range keys {
		m, ok := v.(map[string]interface{})
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// checkIssuerURLDefault: without an IssuerUrl, the issuer URL is the API's stage URL, kept in the SSM parameter
// the functions read at cold start, readable only by the functions' roles and only then. The functions cannot
// name the stage URL in their environment: the API's definition names them (a dependency cycle).
func checkIssuerURLDefault(f *fixture) []string {
	var problems []string
	p, ok := f.tpl.Parameters["IssuerUrl"]
	if !ok || p.Default != "" {
		problems = append(problems, fmt.Sprintf("parameter IssuerUrl must default to \"\" (the stage URL), not %v", p.Default))
	}
	wantConditions := map[string]string{
		"IssuerUrlGiven":      `{"Fn::Not": [{"Fn::Equals": [{"Ref": "IssuerUrl"}, ""]}]}`,
		"StageUrlIsIssuerUrl": `{"Fn::Equals": [{"Ref": "IssuerUrl"}, ""]}`,
	}
	for name, wantJSON := range wantConditions {
		var want interface{}
		_ = json.Unmarshal([]byte(wantJSON), &want)
		if got := dig(f.written, "Conditions", name); !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			problems = append(problems, fmt.Sprintf("condition %s = %s, want %s", name, g, wantJSON))
		}
	}
	param := dig(f.written, "Resources", "IssuerUrlParameter")
	var wantParam interface{}
	_ = json.Unmarshal([]byte(`{"Type": "AWS::SSM::Parameter", "Properties": {"Name": {"Fn::Sub": "`+issuerURLParameterName+`"},
		"Type": "String", "Value": {"Fn::If": ["IssuerUrlGiven", {"Ref": "IssuerUrl"},
		{"Fn::Sub": "https://${IssuerApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"}]}}}`), &wantParam)
	if m, ok := param.(map[string]interface{}); ok {
		if props, ok := m["Properties"].(map[string]interface{}); ok {
			delete(props, "Description")
		}
	}
	if !reflect.DeepEqual(param, wantParam) {
		g, _ := json.Marshal(param)
		problems = append(problems, fmt.Sprintf("IssuerUrlParameter = %s, want the stage URL unless IssuerUrl is given", g))
	}
	// Read access: one policy, on that parameter only, for every function role, only when it is read.
	var readers []string
	for id := range f.tpl.GetAllIAMPolicyResources() {
		props := f.properties(f.resolved, id)
		sts, _ := statements(id, props["PolicyDocument"])
		for _, st := range sts {
			for _, a := range st.actions {
				if !strings.HasPrefix(strings.ToLower(a), "ssm:") {
					continue
				}
				readers = append(readers, id)
				if a != "ssm:GetParameter" || !sameSet(st.resources, []string{issuerURLParameterArn}) {
					problems = append(problems, fmt.Sprintf("%s: %s on %v, want ssm:GetParameter on %s", st.where, a, st.resources, issuerURLParameterArn))
				}
			}
		}
		if len(readers) > 0 && readers[len(readers)-1] == id {
			var wantRoles []string
			for _, fn := range f.functionIDs() {
				if !contains(readsNoConfig, fn) {
					wantRoles = append(wantRoles, "${"+fn+"Role}")
				}
			}
			if roles := strs(props["Roles"]); !sameSet(roles, wantRoles) {
				problems = append(problems, fmt.Sprintf("%s: attached to %v, want every function role %v", id, roles, wantRoles))
			}
			if c := dig(f.written, "Resources", id, "Condition"); c != "StageUrlIsIssuerUrl" {
				problems = append(problems, fmt.Sprintf("%s: Condition %v, want StageUrlIsIssuerUrl (granted only when read)", id, c))
			}
		}
	}
	if len(uniq(readers)) != 1 {
		problems = append(problems, fmt.Sprintf("policies granting ssm: %v, want exactly one", uniq(readers)))
	}
	return problems
}

func checkTable(f *fixture) []string {
	tables := f.tpl.GetAllDynamoDBTableResources()
	if len(tables) != 1 {
		return []string{fmt.Sprintf("%d DynamoDB tables, want 1", len(tables))}
	}
	want := store.TableDefinition("x")
	var problems []string
	for id, tb := range tables {
		if id != "IssuerTable" {
			problems = append(problems, fmt.Sprintf("table %s: the environment and policies name IssuerTable", id))
		}
		if aws.ToString(tb.BillingMode) != string(want.BillingMode) {
			problems = append(problems, fmt.Sprintf("table: BillingMode %q, want %q", aws.ToString(tb.BillingMode), want.BillingMode))
		}
		if tb.TimeToLiveSpecification == nil || !tb.TimeToLiveSpecification.Enabled || aws.ToString(tb.TimeToLiveSpecification.AttributeName) != store.AttrTTL {
			problems = append(problems, fmt.Sprintf("table: TTL must be enabled on %q", store.AttrTTL))
		}
		if tb.PointInTimeRecoverySpecification == nil || !aws.ToBool(tb.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled) {
			problems = append(problems, "table: point-in-time recovery must be enabled")
		}
		if tb.SSESpecification == nil || !tb.SSESpecification.SSEEnabled {
			problems = append(problems, "table: SSE must be enabled")
		}
		if tb.StreamSpecification == nil || tb.StreamSpecification.StreamViewType != string(want.StreamSpecification.StreamViewType) {
			problems = append(problems, fmt.Sprintf("table: stream must be %s (the publisher compares old and new images)",
				want.StreamSpecification.StreamViewType))
		}
		if len(tb.LocalSecondaryIndexes) != 0 {
			problems = append(problems, "table: local secondary indexes are not in store.TableDefinition")
		}
		var gotAttrs, wantAttrs []string
		for _, a := range tb.AttributeDefinitions {
			gotAttrs = append(gotAttrs, a.AttributeName+":"+a.AttributeType)
		}
		for _, a := range want.AttributeDefinitions {
			wantAttrs = append(wantAttrs, aws.ToString(a.AttributeName)+":"+string(a.AttributeType))
		}
		if !sameSet(gotAttrs, wantAttrs) {
			problems = append(problems, fmt.Sprintf("table: attributes %v, want %v", gotAttrs, wantAttrs))
		}
		var gotKeys, wantKeys []string
		for _, k := range tb.KeySchema {
			gotKeys = append(gotKeys, k.AttributeName+":"+k.KeyType)
		}
		for _, k := range want.KeySchema {
			wantKeys = append(wantKeys, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
		}
		if !reflect.DeepEqual(gotKeys, wantKeys) {
			problems = append(problems, fmt.Sprintf("table: key schema %v, want %v", gotKeys, wantKeys))
		}
		var gotGSI, wantGSI []string
		for _, g := range tb.GlobalSecondaryIndexes {
			s := g.IndexName
			for _, k := range g.KeySchema {
				s += " " + k.AttributeName + ":" + k.KeyType
			}
			if g.Projection != nil {
				s += " " + aws.ToString(g.Projection.ProjectionType) + strings.Join(g.Projection.NonKeyAttributes, ",")
			}
			gotGSI = append(gotGSI, s)
		}
		for _, g := range want.GlobalSecondaryIndexes {
			s := aws.ToString(g.IndexName)
			for _, k := range g.KeySchema {
				s += " " + aws.ToString(k.AttributeName) + ":" + string(k.KeyType)
			}
			if g.Projection != nil {
				s += " " + string(g.Projection.ProjectionType) + strings.Join(g.Projection.NonKeyAttributes, ",")
			}
			wantGSI = append(wantGSI, s)
		}
		if !sameSet(gotGSI, wantGSI) {
			problems = append(problems, fmt.Sprintf("table: GSIs %v, want %v", gotGSI, wantGSI))
		}
	}
	return problems
}

// tableAccess is, per function, exactly the DynamoDB actions it is granted, whether it publishes events (only the
// publisher: the others' writes are the events' source), whether it queries the indexes (its Query then also names
// the index ARN) and whether it reads the table's stream. Widening a function's access is a deliberate change of
// this table. The credential and deferred credential functions Query the table itself: a container's first
// revocable credential reads the status list shard heads (store.ShardGenerations).
var tableAccess = map[string]struct {
	actions []string
	events  bool
	indexes bool
	stream  bool
}{
	"DefinitionsFunction":        {[]string{"GetItem", "PutItem", "DeleteItem", "Query"}, false, true, false},
	"IssueFunction":              {[]string{"GetItem", "PutItem", "DeleteItem"}, false, false, false},
	"StatusFunction":             {[]string{"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"}, false, true, false},
	"DeferredIssueFunction":      {[]string{"GetItem", "PutItem"}, false, false, false},
	"MetadataFunction":           {[]string{"GetItem", "PutItem", "UpdateItem", "Query"}, false, true, false},
	"AuthorizeFunction":          {[]string{"GetItem", "PutItem", "DeleteItem"}, false, false, false},
	"TokenFunction":              {[]string{"GetItem", "PutItem", "DeleteItem"}, false, false, false},
	"CredentialFunction":         {[]string{"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"}, false, false, false},
	"DeferredCredentialFunction": {[]string{"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"}, false, false, false},
	"NotificationFunction":       {[]string{"GetItem", "PutItem"}, false, false, false}, // the record write is a conditional PutItem
	"ConsoleFunction":            {nil, false, false, false},                            // a static page: no table, key or bus
	"PublisherFunction":          {nil, true, false, true},                              // the stream in, the bus out
}

// streamActions are what reading the table's stream takes (Lambda's event source mapping uses the function's role):
// DescribeStream, GetRecords and GetShardIterator on the stream, and ListStreams, which names no resource.
var streamActions = []string{"DescribeStream", "GetRecords", "GetShardIterator"}

const (
	tableArn = "${IssuerTable.Arn}"
	indexArn = "${IssuerTable.Arn}/index/*"
	busArn   = "${EventBus.Arn}"
	// streamArn is the table's stream; failureQueueArn the publisher's on-failure destination.
	streamArn       = "${IssuerTable.StreamArn}"
	failureQueueArn = "${PublisherFailureQueue.Arn}"
	keyArn          = "${SigningKey.Arn}"
	// requestKeyArn wraps the credential request encryption keys (shared/requestkeys).
	requestKeyArn = "${RequestEncryptionKey.Arn}"
)

// guardedPrefixes are the services whose actions must name their resources.
var guardedPrefixes = []string{"dynamodb:", "kms:", "events:", "ssm:", "sqs:"}

func guarded(action string) bool {
	if strings.Contains(action, "*") && !strings.Contains(action, ":") {
		return true // "*" alone
	}
	for _, p := range guardedPrefixes {
		if strings.HasPrefix(strings.ToLower(action), p) {
			return true
		}
	}
	return false
}

// checkStatementScope reports wildcard actions or resources in statements about guarded services.
func checkStatementScope(st statement) []string {
	var problems []string
	touches := false
	for _, a := range st.actions {
		if !guarded(a) {
			continue
		}
		touches = true
		if strings.ContainsAny(a, "*?") {
			problems = append(problems, fmt.Sprintf("%s: wildcard action %q", st.where, a))
		}
	}
	if !touches {
		return problems
	}
	if len(st.resources) == 0 {
		problems = append(problems, fmt.Sprintf("%s: no Resource", st.where))
	}
	if sameSet(st.actions, []string{"dynamodb:ListStreams"}) && sameSet(st.resources, []string{"*"}) {
		return problems // ListStreams names no resource: it lists the account's stream ARNs, no data
	}
	for _, r := range st.resources {
		if strings.ContainsAny(r, "*?") && r != indexArn {
			problems = append(problems, fmt.Sprintf("%s: resource %q is a wildcard", st.where, r))
		}
	}
	return problems
}

func checkFunctionPolicies(f *fixture) []string {
	var problems []string
	for _, id := range f.functionIDs() {
		props := f.properties(f.resolved, id)
		var docs []interface{}
		switch p := props["Policies"].(type) {
		case nil:
		case []interface{}:
			docs = p
		default:
			docs = []interface{}{p}
		}
		var dynamo, evts, stream, queue []string
		var dynamoRes, evtRes, streamRes, queueRes []string
		for i, doc := range docs {
			sts, ps := statements(fmt.Sprintf("%s policy %d", id, i), doc)
			problems = append(problems, ps...)
			for _, st := range sts {
				problems = append(problems, checkStatementScope(st)...)
				if st.effect != "Allow" {
					continue
				}
				for _, a := range st.actions {
					switch {
					case a == "dynamodb:ListStreams":
						stream = append(stream, "ListStreams")
					case contains(streamActions, strings.TrimPrefix(a, "dynamodb:")):
						stream = append(stream, strings.TrimPrefix(a, "dynamodb:"))
						streamRes = append(streamRes, st.resources...)
					case strings.HasPrefix(a, "sqs:"):
						queue = append(queue, a)
						queueRes = append(queueRes, st.resources...)
					case strings.HasPrefix(a, "dynamodb:"):
						dynamo = append(dynamo, strings.TrimPrefix(a, "dynamodb:"))
						dynamoRes = append(dynamoRes, st.resources...)
					case strings.HasPrefix(a, "events:"):
						evts = append(evts, a)
						evtRes = append(evtRes, st.resources...)
					case strings.HasPrefix(a, "kms:"):
						problems = append(problems, fmt.Sprintf("%s: grants %s in its Policies; signing is granted by the key's own policy resource", st.where, a))
					default:
						problems = append(problems, fmt.Sprintf("%s: action %s is none of DynamoDB, EventBridge, SQS", st.where, a))
					}
				}
			}
		}
		want, ok := tableAccess[id]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no expected access in tableAccess", id))
			continue
		}
		if !sameSet(uniq(dynamo), want.actions) {
			problems = append(problems, fmt.Sprintf("%s: DynamoDB actions %v, want exactly %v", id, uniq(dynamo), want.actions))
		}
		var wantRes []string
		if len(want.actions) > 0 {
			wantRes = append(wantRes, tableArn)
		}
		if want.indexes {
			wantRes = append(wantRes, indexArn)
		}
		if !sameSet(uniq(dynamoRes), wantRes) {
			problems = append(problems, fmt.Sprintf("%s: DynamoDB resources %v, want exactly %v", id, uniq(dynamoRes), wantRes))
		}
		switch {
		case want.events && (!sameSet(uniq(evts), []string{"events:PutEvents"}) || !sameSet(uniq(evtRes), []string{busArn})):
			problems = append(problems, fmt.Sprintf("%s: events actions %v on %v, want events:PutEvents on %s", id, evts, evtRes, busArn))
		case !want.events && len(evts) != 0:
			problems = append(problems, fmt.Sprintf("%s: publishes events (%v) but should not: its writes reach the "+
				"publisher through the table's stream", id, evts))
		}
		switch {
		case want.stream && (!sameSet(uniq(stream), append([]string{"ListStreams"}, streamActions...)) || !sameSet(uniq(streamRes), []string{streamArn})):
			problems = append(problems, fmt.Sprintf("%s: stream actions %v on %v, want %v on %s and ListStreams", id, stream, streamRes,
				streamActions, streamArn))
		case !want.stream && len(stream) != 0:
			problems = append(problems, fmt.Sprintf("%s: reads the table's stream (%v) but should not", id, stream))
		}
		switch {
		case want.stream && (!sameSet(uniq(queue), []string{"sqs:SendMessage"}) || !sameSet(uniq(queueRes), []string{failureQueueArn})):
			problems = append(problems, fmt.Sprintf("%s: SQS actions %v on %v, want sqs:SendMessage on %s (the failed batches)", id,
				queue, queueRes, failureQueueArn))
		case !want.stream && len(queue) != 0:
			problems = append(problems, fmt.Sprintf("%s: SQS actions %v, but only the publisher's stream mapping sends to a queue", id, queue))
		}
	}
	return problems
}

// signingRoles are the roles of the functions that sign (credentials, status list tokens, ID token requests) or
// publish the JWKS.
var signingRoles = []string{"AuthorizeFunctionRole", "StatusFunctionRole", "MetadataFunctionRole", "CredentialFunctionRole", "DeferredCredentialFunctionRole"}

func checkSigning(f *fixture) []string {
	var problems []string
	var wantRoles []string
	for _, r := range signingRoles {
		wantRoles = append(wantRoles, "${"+r+"}")
	}
	granted := false
	for id := range f.tpl.GetAllIAMPolicyResources() {
		props := f.properties(f.resolved, id)
		sts, ps := statements(id, props["PolicyDocument"])
		problems = append(problems, ps...)
		roles := strs(props["Roles"])
		if len(strs(props["Users"])) != 0 || len(strs(props["Groups"])) != 0 {
			problems = append(problems, fmt.Sprintf("%s: attached to users or groups", id))
		}
		for _, st := range sts {
			problems = append(problems, checkStatementScope(st)...)
			var kmsActions []string
			for _, a := range st.actions {
				if strings.HasPrefix(strings.ToLower(a), "kms:") {
					kmsActions = append(kmsActions, a)
				}
			}
			if len(kmsActions) == 0 || sameSet(st.resources, []string{requestKeyArn}) {
				continue // the request key's own policies are checked by checkRequestKey
			}
			granted = true
			if !sameSet(kmsActions, []string{"kms:Sign", "kms:GetPublicKey"}) {
				problems = append(problems, fmt.Sprintf("%s: KMS actions %v, want exactly kms:Sign and kms:GetPublicKey", st.where, kmsActions))
			}
			if !sameSet(st.resources, []string{keyArn}) {
				problems = append(problems, fmt.Sprintf("%s: KMS resources %v, want exactly %s", st.where, st.resources, keyArn))
			}
			if !sameSet(roles, wantRoles) {
				problems = append(problems, fmt.Sprintf("%s: KMS granted to %v, want exactly %v", id, roles, wantRoles))
			}
		}
	}
	if !granted {
		problems = append(problems, "no AWS::IAM::Policy grants the signing functions kms:Sign")
	}
	return problems
}

func checkKey(f *fixture) []string {
	keys := f.tpl.GetAllKMSKeyResources()
	if len(keys) != 2 {
		return []string{fmt.Sprintf("%d KMS keys, want 2 (SigningKey, RequestEncryptionKey)", len(keys))}
	}
	problems := checkRequestKey(f)
	delete(keys, "RequestEncryptionKey")
	var wantPrincipals []string
	for _, r := range signingRoles {
		wantPrincipals = append(wantPrincipals, "${"+r+".Arn}")
	}
	for id, k := range keys {
		if id != "SigningKey" {
			problems = append(problems, fmt.Sprintf("key %s: the environment and policies name SigningKey", id))
		}
		if aws.ToString(k.KeySpec) != "ECC_NIST_P256" {
			problems = append(problems, fmt.Sprintf("%s: KeySpec %q, want ECC_NIST_P256", id, aws.ToString(k.KeySpec)))
		}
		if aws.ToString(k.KeyUsage) != "SIGN_VERIFY" {
			problems = append(problems, fmt.Sprintf("%s: KeyUsage %q, want SIGN_VERIFY", id, aws.ToString(k.KeyUsage)))
		}
		sts, ps := statements(id+" key policy", f.properties(f.resolved, id)["KeyPolicy"])
		problems = append(problems, ps...)
		signers := false
		for _, st := range sts {
			if p, ok := st.raw["Principal"]; ok && (p == "*" || contains(strs(principalAWS(p)), "*")) {
				problems = append(problems, fmt.Sprintf("%s: principal *", st.where))
			}
			if st.effect != "Allow" {
				continue
			}
			for _, a := range st.actions {
				if !actionMatches(a, "kms:Sign") {
					continue
				}
				got := strs(conditionValue(st.raw, "ArnEquals", "aws:PrincipalArn"))
				if !sameSet(got, wantPrincipals) {
					problems = append(problems, fmt.Sprintf("%s: allows %s to %v, want only the signing roles %v", st.where, a, got, wantPrincipals))
				} else {
					signers = true
				}
			}
		}
		if !signers {
			problems = append(problems, fmt.Sprintf("%s: no key policy statement lets the signing roles sign", id))
		}
	}
	aliases := f.tpl.GetAllKMSAliasResources()
	if len(aliases) != 1 {
		problems = append(problems, fmt.Sprintf("%d KMS aliases, want 1", len(aliases)))
	}
	for id, a := range aliases {
		if a.TargetKeyId != "${SigningKey}" {
			problems = append(problems, fmt.Sprintf("%s: targets %q, want the signing key", id, a.TargetKeyId))
		}
	}
	return problems
}

// requestKeyUse is who may do what with the request encryption wrapping key, by the purpose (encryption context)
// of the keys it wraps: the metadata function wraps new credential request keys and the credential functions unwrap
// them; the authorization function wraps and unwraps the OpenID4VP response keys. Each only under its purpose.
var requestKeyUse = map[string]map[string][]string{
	"sdjwt-issuer/credential-request-encryption": {
		"kms:Encrypt": {"MetadataFunctionRole"},
		"kms:Decrypt": {"CredentialFunctionRole", "DeferredCredentialFunctionRole"},
	},
	"sdjwt-issuer/openid4vp-response-encryption": {
		"kms:Encrypt": {"AuthorizeFunctionRole"},
		"kms:Decrypt": {"AuthorizeFunctionRole"},
	},
}

// checkRequestKey checks the request encryption wrapping key (symmetric, ENCRYPT_DECRYPT), its key policy and
// the IAM policies that use it: Encrypt and Decrypt only for the roles requestKeyUse names for the statement's
// purpose encryption context, never without one; nobody else may use it.
func checkRequestKey(f *fixture) []string {
	var problems []string
	k, err := f.tpl.GetKMSKeyWithName("RequestEncryptionKey")
	if err != nil {
		return []string{"no RequestEncryptionKey"}
	}
	if aws.ToString(k.KeySpec) != "SYMMETRIC_DEFAULT" || aws.ToString(k.KeyUsage) != "ENCRYPT_DECRYPT" {
		problems = append(problems, fmt.Sprintf("RequestEncryptionKey: %s/%s, want SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT",
			aws.ToString(k.KeySpec), aws.ToString(k.KeyUsage)))
	}
	roleArns := func(roles []string, suffix string) []string {
		var out []string
		for _, r := range roles {
			out = append(out, "${"+r+suffix+"}")
		}
		return out
	}
	check := func(where string, st statement, principals []string) {
		for _, a := range st.actions {
			if !actionMatches(a, "kms:Encrypt") && !actionMatches(a, "kms:Decrypt") {
				continue
			}
			if a != "kms:Encrypt" && a != "kms:Decrypt" {
				problems = append(problems, fmt.Sprintf("%s: grants %s", where, a))
				continue
			}
			purpose, _ := conditionValue(st.raw, "StringEquals", "kms:EncryptionContext:purpose").(string)
			use, ok := requestKeyUse[purpose]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s without a known purpose encryption context", where, a))
				continue
			}
			if !sameSet(principals, roleArns(use[a], ".Arn")) && !sameSet(principals, roleArns(use[a], "")) {
				problems = append(problems, fmt.Sprintf("%s: %s (%s) for %v, want %v", where, a, purpose, principals, use[a]))
			}
		}
	}
	sts, ps := statements("RequestEncryptionKey key policy", f.properties(f.resolved, "RequestEncryptionKey")["KeyPolicy"])
	problems = append(problems, ps...)
	for _, st := range sts {
		if st.effect == "Allow" {
			check(st.where, st, strs(conditionValue(st.raw, "ArnEquals", "aws:PrincipalArn")))
		}
	}
	for id := range f.tpl.GetAllIAMPolicyResources() {
		props := f.properties(f.resolved, id)
		sts, _ := statements(id, props["PolicyDocument"])
		for _, st := range sts {
			if sameSet(st.resources, []string{requestKeyArn}) && st.effect == "Allow" {
				check(st.where, st, strs(props["Roles"]))
			}
		}
	}
	return problems
}

func principalAWS(p interface{}) interface{} {
	if m, ok := p.(map[string]interface{}); ok {
		return m["AWS"]
	}
	return p
}

func conditionValue(st map[string]interface{}, operator, key string) interface{} {
	c, _ := st["Condition"].(map[string]interface{})
	op, _ := c[operator].(map[string]interface{})
	return op[key]
}

func checkLogGroups(f *fixture) []string {
	var problems []string
	groups := f.tpl.GetAllLogsLogGroupResources()
	for _, id := range f.functionIDs() {
		fn, _ := f.tpl.GetServerlessFunctionWithName(id)
		if fn.FunctionName == nil {
			problems = append(problems, fmt.Sprintf("%s: no FunctionName, so its log group cannot be declared before it", id))
			continue
		}
		wantName := "/aws/lambda/" + *fn.FunctionName
		found := false
		for _, dep := range fn.AWSCloudFormationDependsOn {
			lg, ok := groups[dep]
			if !ok || aws.ToString(lg.LogGroupName) != wantName {
				continue
			}
			found = true
			if lg.RetentionInDays == nil {
				problems = append(problems, fmt.Sprintf("%s: log group %s has no retention", id, dep))
			}
			if r := f.properties(f.written, dep)["RetentionInDays"]; !reflect.DeepEqual(r, map[string]interface{}{"Ref": "LogRetentionDays"}) {
				problems = append(problems, fmt.Sprintf("%s: log group %s retention %v, want the LogRetentionDays parameter", id, dep, r))
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s: does not depend on a log group named %s", id, wantName))
		}
	}
	return problems
}

func checkEventRule(f *fixture) []string {
	var problems []string
	for _, id := range f.functionIDs() {
		fn, _ := f.tpl.GetServerlessFunctionWithName(id)
		var got []string
		for name, ev := range fn.Events {
			if ev.Type != "EventBridgeRule" {
				continue
			}
			if ev.Properties == nil || ev.Properties.EventBridgeRuleEvent == nil {
				problems = append(problems, fmt.Sprintf("%s event %s: not a valid EventBridgeRule event", id, name))
				continue
			}
			rule := ev.Properties.EventBridgeRuleEvent
			if aws.ToString(rule.EventBusName) != "${EventBus}" {
				problems = append(problems, fmt.Sprintf("%s event %s: on bus %q, want the stack's EventBus", id, name, aws.ToString(rule.EventBusName)))
			}
			pattern, _ := rule.Pattern.(map[string]interface{})
			dt := strs(pattern["detail-type"])
			if len(dt) == 0 {
				problems = append(problems, fmt.Sprintf("%s event %s: pattern without detail-type matches every event on the bus", id, name))
			}
			got = append(got, dt...)
			// docs/security.md, "Forged completion event": only the organisation's source completes exchanges.
			if src := strs(pattern["source"]); !reflect.DeepEqual(src, []string{"${CompletionEventSource}"}) {
				problems = append(problems, fmt.Sprintf("%s event %s: source %v, want exactly the organisation's [${CompletionEventSource}]", id, name, src))
			}
		}
		if want := f.design.detailTypes[id]; !sameSet(got, want) {
			problems = append(problems, fmt.Sprintf("%s: rules receive detail-types %v, docs/design.md says %v", id, got, want))
		}
	}
	return problems
}

func checkParametersOutputs(f *fixture) []string {
	var problems []string
	for name, typ := range map[string]string{
		"IssuerUrl": "String", "Stage": "String", "RetentionDays": "Number", "AdminApiKeyHashes": "String",
		"AdminApiKeyHashesParameter": "String", "LogRetentionDays": "Number", "EventSource": "String",
		"CompletionEventSource": "String", "OfferValidityMinutes": "Number",
	} {
		p, ok := f.tpl.Parameters[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("parameter %s is missing", name))
			continue
		}
		if p.Type != typ {
			problems = append(problems, fmt.Sprintf("parameter %s: type %s, want %s", name, p.Type, typ))
		}
	}
	for _, secret := range []string{"AdminApiKeyHashes"} {
		if p, ok := f.tpl.Parameters[secret]; ok && !aws.ToBool(p.NoEcho) {
			problems = append(problems, "parameter "+secret+" must be NoEcho")
		}
	}
	for name, ref := range map[string]string{
		"ApiUrl": "${IssuerApi}", "TableName": "${IssuerTable}", "KeyId": "${SigningKey}", "EventBusName": "${EventBus}",
		"PublisherFailureQueueUrl": "${PublisherFailureQueue}",
		"ConsoleUrl":               "${IssuerUrlParameter.Value}/console", "CredentialIssuer": "${IssuerUrlParameter.Value}",
	} {
		o, ok := f.tpl.Outputs[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("output %s is missing", name))
			continue
		}
		if v, _ := o.Value.(string); !strings.Contains(v, ref) {
			problems = append(problems, fmt.Sprintf("output %s = %v, want it to reference %s", name, o.Value, ref))
		}
	}
	return problems
}

// checkEventBusPolicy (docs/security.md, "Forged completion event"): the bus has a resource policy that denies
// PutEvents to every principal outside the stack's account, and allows the account's.
func checkEventBusPolicy(f *fixture) []string {
	var allow, deny bool
	for id, p := range f.tpl.GetAllEventsEventBusPolicyResources() {
		if aws.ToString(p.EventBusName) != "${EventBus}" {
			return []string{fmt.Sprintf("%s: on bus %q, want the stack's EventBus", id, aws.ToString(p.EventBusName))}
		}
		st, _ := p.Statement.(map[string]interface{})
		principal := fmt.Sprint(st["Principal"])
		cond := fmt.Sprint(st["Condition"])
		switch {
		case st["Effect"] == "Allow" && st["Action"] == "events:PutEvents" &&
			principal == "map[AWS:arn:${AWS::Partition}:iam::${AWS::AccountId}:root]" && st["Resource"] == "${EventBus.Arn}":
			allow = true
		case st["Effect"] == "Deny" && st["Action"] == "events:PutEvents" && principal == "*" &&
			cond == "map[StringNotEquals:map[aws:PrincipalAccount:${AWS::AccountId}]]" && st["Resource"] == "${EventBus.Arn}":
			deny = true
		default:
			return []string{fmt.Sprintf("%s: unexpected statement %v", id, st)}
		}
	}
	var problems []string
	if !allow {
		problems = append(problems, "no EventBusPolicy allows PutEvents to the account's principals (and only them)")
	}
	if !deny {
		problems = append(problems, "no EventBusPolicy denies PutEvents to principals of other accounts")
	}
	return problems
}

// checkNonceKey (docs/security.md, "Nonce endpoint writes"): every function gets the same c_nonce key, generated
// by Secrets Manager in the stack and resolved at deploy: no parameter, nothing in samconfig.toml.
func checkNonceKey(f *fixture) []string {
	g, err := f.tpl.GetServerlessGlobalFunction()
	if err != nil || g.Environment == nil {
		return []string{"no global function environment"}
	}
	if v := fmt.Sprint(g.Environment.Variables["NONCE_KEY"]); v != "{{resolve:secretsmanager:${NonceKeySecret}:SecretString}}" {
		return []string{fmt.Sprintf("NONCE_KEY = %q, want the resolved NonceKeySecret", v)}
	}
	sec, err := f.tpl.GetSecretsManagerSecretWithName("NonceKeySecret")
	if err != nil || sec.GenerateSecretString == nil || aws.ToInt(sec.GenerateSecretString.PasswordLength) < 43 {
		return []string{fmt.Sprintf("NonceKeySecret must generate a secret of at least 43 characters (%v)", err)}
	}
	return nil
}

// checkGatewayResponses (docs/security.md, "Response headers"): API Gateway's own 4XX and 5XX answers (unknown
// path, throttling, ...) carry nosniff and HSTS like the functions' answers do.
func checkGatewayResponses(f *fixture) []string {
	want := map[string]bool{"DEFAULT_4XX": true, "DEFAULT_5XX": true}
	var problems []string
	for id, r := range f.tpl.GetAllApiGatewayGatewayResponseResources() {
		if r.RestApiId != "${IssuerApi}" {
			problems = append(problems, fmt.Sprintf("%s: on API %q, want IssuerApi", id, r.RestApiId))
		}
		h := r.ResponseParameters
		if h["gatewayresponse.header.X-Content-Type-Options"] != "'nosniff'" ||
			!strings.HasPrefix(h["gatewayresponse.header.Strict-Transport-Security"], "'max-age=") {
			problems = append(problems, fmt.Sprintf("%s: headers %v, want nosniff and HSTS", id, h))
		}
		delete(want, r.ResponseType)
	}
	for kind := range want {
		problems = append(problems, fmt.Sprintf("no AWS::ApiGateway::GatewayResponse for %s", kind))
	}
	return problems
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func uniq(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range list {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// TestChecksCatchBreakage breaks the real template one way at a time and expects the named check to object,
// so that a check that cannot fail does not pass unnoticed.
func TestChecksCatchBreakage(t *testing.T) {
	original, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]check{}
	for _, c := range checks {
		byName[c.name] = c
	}
	tests := []struct {
		name     string
		old, new string
		check    string
	}{
		{"route path changed", "Path: /nonce\n", "Path: /nonces\n", "routes equal docs/design.md"},
		{"route method changed", "Path: /token\n            Method: POST", "Path: /token\n            Method: PUT", "routes equal docs/design.md"},
		{"runtime", "Runtime: provided.al2023", "Runtime: provided.al2", "functions build from their Makefile targets"},
		{"architecture", "Architectures: [arm64]", "Architectures: [x86_64]", "functions build from their Makefile targets"},
		{"handler", "Handler: bootstrap", "Handler: main", "functions build from their Makefile targets"},
		{"build method", "BuildMethod: makefile", "BuildMethod: go1.x", "functions build from their Makefile targets"},
		{"logical id without a Makefile target", "  TokenFunction:\n", "  TokensFunction:\n", "functions build from their Makefile targets"},
		{"stage not from parameter", "StageName: !Ref Stage", "StageName: prod", "one REST API"},
		{"binary only for Accept image/png", "        - \"*~1*\"\n", "        - image~1png\n", "one REST API"},
		{"table name not from the table", "TABLE_NAME: !Ref IssuerTable", "TABLE_NAME: issuer", "environment"},
		{"missing env var", "        LOG_LEVEL: info\n", "", "environment"},
		{"billing", "BillingMode: PAY_PER_REQUEST", "BillingMode: PROVISIONED", "table equals store.TableDefinition"},
		{"ttl attribute", "AttributeName: ttl", "AttributeName: expiresAt", "table equals store.TableDefinition"},
		{"pitr", "PointInTimeRecoveryEnabled: true", "PointInTimeRecoveryEnabled: false", "table equals store.TableDefinition"},
		{"sse", "SSEEnabled: true", "SSEEnabled: false", "table equals store.TableDefinition"},
		{"gsi renamed", "IndexName: gsi3", "IndexName: gsi4", "table equals store.TableDefinition"},
		{"gsi projection", "ProjectionType: ALL", "ProjectionType: KEYS_ONLY", "table equals store.TableDefinition"},
		{"key schema", "- {AttributeName: sk, KeyType: RANGE}", "- {AttributeName: gsi1sk, KeyType: RANGE}", "table equals store.TableDefinition"},
		{"table resource star",
			"Action: [dynamodb:GetItem, dynamodb:PutItem]\n              Resource:\n                - !GetAtt IssuerTable.Arn",
			"Action: [dynamodb:GetItem, dynamodb:PutItem]\n              Resource:\n                - \"*\"",
			"IAM least privilege"},
		{"extra action", "Action: [dynamodb:GetItem, dynamodb:PutItem]", "Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:Scan]", "IAM least privilege"},
		{"wildcard action", "Action: [dynamodb:GetItem, dynamodb:PutItem]", "Action: [\"dynamodb:*\"]", "IAM least privilege"},
		{"events resource star", "- !GetAtt EventBus.Arn", "- \"*\"", "IAM least privilege"},
		{"a request function publishes again", "            Action: [dynamodb:GetItem, dynamodb:PutItem]\n              Resource:\n                - !GetAtt IssuerTable.Arn\n",
			"            Action: [dynamodb:GetItem, dynamodb:PutItem]\n              Resource:\n                - !GetAtt IssuerTable.Arn\n            - Effect: Allow\n              Action: [events:PutEvents]\n              Resource:\n                - !GetAtt EventBus.Arn\n",
			"IAM least privilege"},
		{"stream read on every stream", "                - !GetAtt IssuerTable.StreamArn\n            # ListStreams", "                - \"*\"\n            # ListStreams", "IAM least privilege"},
		{"failed batches to any queue", "                - !GetAtt PublisherFailureQueue.Arn\n  # A plain", "                - \"*\"\n  # A plain", "IAM least privilege"},
		{"stream without old images", "StreamViewType: NEW_AND_OLD_IMAGES", "StreamViewType: NEW_IMAGE", "table equals store.TableDefinition"},
		{"partial batch failures not reported", "      FunctionResponseTypes: [ReportBatchItemFailures]\n", "", "events from the table's stream"},
		{"no bisect", "BisectBatchOnFunctionError: true", "BisectBatchOnFunctionError: false", "events from the table's stream"},
		{"endless retries", "MaximumRetryAttempts: 10", "MaximumRetryAttempts: -1", "events from the table's stream"},
		{"failed batches dropped", "      DestinationConfig:\n        OnFailure:\n          Destination: !GetAtt PublisherFailureQueue.Arn\n", "", "events from the table's stream"},
		{"revocation items filtered out", ", {\"prefix\": \"REVOCATION#\"}", "", "events from the table's stream"},
		{"starts at the latest record", "StartingPosition: TRIM_HORIZON", "StartingPosition: LATEST", "events from the table's stream"},
		{"queue unencrypted", "SqsManagedSseEnabled: true", "SqsManagedSseEnabled: false", "events from the table's stream"},
		{"managed policy", "      Policies:\n        - Statement:", "      Policies:\n        - AmazonDynamoDBFullAccess\n        - Statement:", "IAM least privilege"},
		{"kms in function policy",
			"              Action: [events:PutEvents]\n",
			"              Action: [events:PutEvents, kms:Sign]\n",
			"IAM least privilege"},
		{"non-signing role may sign", "        - !Ref DeferredCredentialFunctionRole\n", "        - !Ref DeferredCredentialFunctionRole\n        - !Ref TokenFunctionRole\n", "only signing functions use the key"},
		{"signing on every key", "            Resource:\n              - !GetAtt SigningKey.Arn", "            Resource:\n              - \"*\"", "only signing functions use the key"},
		{"account may sign", "              - kms:CancelKeyDeletion\n", "              - kms:CancelKeyDeletion\n              - kms:Sign\n", "KMS key"},
		{"key spec", "KeySpec: ECC_NIST_P256", "KeySpec: RSA_2048", "KMS key"},
		{"key usage", "KeyUsage: SIGN_VERIFY", "KeyUsage: ENCRYPT_DECRYPT", "KMS key"},
		{"log retention removed", "      RetentionInDays: !Ref LogRetentionDays\n", "", "log groups with retention"},
		{"log group not a dependency", "DependsOn: TokenFunctionLogGroup", "DependsOn: IssuerTable", "log groups with retention"},
		{"event rule detail-type", "- DeferredCredentialDenied", "- DeferredCredentialRejected", "deferred completion event rule"},
		{"event rule on default bus", "EventBusName: !Ref EventBus", "EventBusName: default", "deferred completion event rule"},
		{"admin hashes echoed", "NoEcho: true", "NoEcho: false", "parameters and outputs"},
		{"output missing", "  KeyId:\n", "  SigningKeyId:\n", "parameters and outputs"},
		{"issuer URL from the API in the environment (a cycle)", "ISSUER_URL: !If [IssuerUrlGiven, !Ref IssuerUrl, !Ref AWS::NoValue]",
			"ISSUER_URL: !If [IssuerUrlGiven, !Ref IssuerUrl, !Sub \"https://${IssuerApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}\"]", "environment"},
		{"admin hashes only inline", "ADMIN_API_KEY_HASHES: !If\n          - AdminApiKeyHashesFromSsm\n          - !Sub \"{{resolve:ssm:${AdminApiKeyHashesParameter}}}\"\n          - !Ref AdminApiKeyHashes",
			"ADMIN_API_KEY_HASHES: !Ref AdminApiKeyHashes", "environment"},
		{"issuer URL parameter without the stage URL", "        - !Sub \"https://${IssuerApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}\"\n\n  IssuerUrlReadPolicy",
			"        - https://issuer.example.com\n\n  IssuerUrlReadPolicy", "issuer URL defaults to the stage URL"},
		{"issuer URL readable by every parameter", "parameter/${AWS::StackName}/issuer-url\"\n", "parameter/*\"\n", "issuer URL defaults to the stage URL"},
		{"issuer URL read granted always", "    Condition: StageUrlIsIssuerUrl\n", "", "issuer URL defaults to the stage URL"},
		{"issuer URL unreadable by a function", "        - !Ref NotificationFunctionRole\n      PolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          - Sid: ReadIssuerUrl",
			"      PolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          - Sid: ReadIssuerUrl", "issuer URL defaults to the stage URL"},
		{"issuer URL required", "    Type: String\n    Default: \"\"\n    Description: >-\n      Credential issuer identifier", "    Type: String\n    Description: >-\n      Credential issuer identifier", "issuer URL defaults to the stage URL"},
	}
	// Problems of the unbroken template (e.g. a functions/<dir> not written yet) do not count as caught.
	base := loadFixture(t, templateFile)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := byName[tt.check]
			if !ok {
				t.Fatalf("no check %q", tt.check)
			}
			known := map[string]bool{}
			for _, p := range c.run(base) {
				known[p] = true
			}
			if !strings.Contains(string(original), tt.old) {
				t.Fatalf("template does not contain %q: update this mutation", tt.old)
			}
			broken := strings.Replace(string(original), tt.old, tt.new, 1)
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
				t.Fatal(err)
			}
			f := loadFixture(t, path)
			var caught []string
			for _, p := range c.run(f) {
				if !known[p] {
					caught = append(caught, p)
				}
			}
			if len(caught) == 0 {
				t.Errorf("check %q accepted a template with %s", tt.check, tt.name)
			}
		})
	}
}

// checkPublisherStream (docs/security.md, "Lost events"): the events come from the committed writes. The table's
// stream (new and old images, checked by checkTable) feeds the publisher through one event source mapping that
// starts at the oldest record, reports partial batch failures, splits a failing batch, retries a bounded number
// of times and then describes the batch in an encrypted SQS queue instead of dropping it; its filter lets exchange
// records and revocation items through, created or changed.
func checkPublisherStream(f *fixture) []string {
	var problems []string
	sources, err := StreamSources(f.path)
	if err != nil {
		return []string{err.Error()}
	}
	var mine []StreamSource
	for _, s := range sources {
		if want := f.design.streams[s.FunctionLogicalID]; want != s.Table {
			problems = append(problems, fmt.Sprintf("%s: %s reads the stream of %q, docs/design.md says %q", s.Name,
				s.FunctionLogicalID, s.Table, want))
		}
		if s.FunctionLogicalID == "PublisherFunction" {
			mine = append(mine, s)
		}
	}
	if len(mine) != 1 {
		return append(problems, fmt.Sprintf("%d stream mappings invoke PublisherFunction, want 1", len(mine)))
	}
	s := mine[0]
	if s.Table != "IssuerTable" || s.StartingPosition != "TRIM_HORIZON" {
		problems = append(problems, fmt.Sprintf("%s: stream of %s from %s, want IssuerTable from TRIM_HORIZON (no write "+
			"committed while the mapping is created is left out)", s.Name, s.Table, s.StartingPosition))
	}
	if !s.ReportBatchItemFailures || !s.BisectBatchOnFunctionError {
		problems = append(problems, fmt.Sprintf("%s: partial batch failures %v, bisect %v: want both (a failed record is "+
			"retried from itself, a failing batch split)", s.Name, s.ReportBatchItemFailures, s.BisectBatchOnFunctionError))
	}
	if s.MaximumRetryAttempts < 1 || s.MaximumRetryAttempts > 100 {
		problems = append(problems, fmt.Sprintf("%s: MaximumRetryAttempts %d, want a bound (a poison record must not block "+
			"the shard for the stream's 24 hours)", s.Name, s.MaximumRetryAttempts))
	}
	if s.OnFailure != failureQueueArn {
		problems = append(problems, fmt.Sprintf("%s: on-failure destination %q, want %s (a batch whose retries are spent "+
			"is recorded, not dropped)", s.Name, s.OnFailure, failureQueueArn))
	} else if q, err := f.tpl.GetSQSQueueWithName("PublisherFailureQueue"); err != nil || q.SqsManagedSseEnabled == nil ||
		!*q.SqsManagedSseEnabled || q.MessageRetentionPeriod == nil || *q.MessageRetentionPeriod < 4*24*3600 {
		problems = append(problems, "PublisherFailureQueue: want SSE and a retention of at least 4 days")
	}
	record := func(eventName, pk string) map[string]any {
		return map[string]any{"eventName": eventName, "dynamodb": map[string]any{"Keys": map[string]any{"pk": map[string]any{"S": pk}}}}
	}
	for _, tc := range []struct {
		rec  map[string]any
		want bool
	}{
		{record("INSERT", "EXCHANGE#e1"), true}, {record("MODIFY", "EXCHANGE#e1"), true},
		{record("INSERT", "REVOCATION#e1"), true}, {record("MODIFY", "REVOCATION#e1"), true},
		{record("REMOVE", "EXCHANGE#e1"), false}, {record("MODIFY", "CODE#ab"), false}, {record("MODIFY", "STATUSLIST#0"), false},
	} {
		got := len(s.Filters) == 0
		for _, p := range s.Filters {
			got = got || FilterMatches(p, tc.rec)
		}
		if got != tc.want {
			problems = append(problems, fmt.Sprintf("%s: the filter lets %v through: %v, want %v", s.Name, tc.rec, got, tc.want))
		}
	}
	return problems
}
