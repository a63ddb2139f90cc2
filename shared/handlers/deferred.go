package handlers

import (
	"net/http"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
)

// DeferredIssue is the router of the DeferredIssueFunction's API trigger: completing or denying a Deferred
// exchange (PUT /credential/history/{credentialExchangeId}). NewDeferredIssueHandler adds the EventBridge trigger.
func DeferredIssue(d *Deps) *apigw.Router {
	r := d.router("deferred-issue")
	r.Handle(http.MethodPut, RouteHistoryX, apigw.Admin, d.completeDeferred)
	return r
}
