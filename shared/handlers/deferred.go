package handlers

import (
	"net/http"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
)

// DeferredIssue is the router of the DeferredIssueFunction. Completing or denying a deferred exchange is issue
// 5; until then the route answers 501 with a clear message rather than pretending to work.
func DeferredIssue(d *Deps) *apigw.Router {
	r := d.router("deferred-issue")
	r.Handle(http.MethodPut, RouteHistoryX, apigw.Admin, notImplemented(
		"completing or denying a deferred issuance is not implemented yet (issue 5); the exchange stays pending"))
	return r
}
