package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// The EventBridge detail-types the DeferredIssueFunction handles (template.yaml's DeferredCompletionEvent rule).
const (
	DetailTypeDeferredReady  = "DeferredCredentialReady"
	DetailTypeDeferredDenied = "DeferredCredentialDenied"
)

// DeferredIssueRequest is the body of PUT /credential/history/{credentialExchangeId}.
type DeferredIssueRequest = admin.DeferredRequest

// DeferredEventDetail is the detail of a DeferredCredentialReady / DeferredCredentialDenied event: the exchange id
// plus the body of PUT /credential/history/{credentialExchangeId}.
type DeferredEventDetail struct {
	CredentialExchangeID string `json:"credentialExchangeId"`
	admin.DeferredRequest
}

// DeferredIssueHandler is the Lambda handler of the DeferredIssueFunction: one handler for both of its
// triggers, told apart by the raw payload. An API Gateway proxy event (httpMethod, resource) is routed to
// PUT /credential/history/{credentialExchangeId}; an EventBridge event (detail-type, source, detail) completes
// or denies the exchange its detail names.
//
// For events, a permanent failure (a detail that does not decode or validate, an unknown, deleted or expired
// exchange, a completion the exchange refuses) is logged with the exchange id and the reason only, and the
// invocation succeeds, so EventBridge does not retry what can never succeed; a transient failure (DynamoDB
// unavailable, a record that kept changing) fails the invocation, so EventBridge retries it.
type DeferredIssueHandler struct {
	router *apigw.Router
	svc    *admin.Service
	log    *slog.Logger
}

// NewDeferredIssueHandler builds the handler over the dependencies.
func NewDeferredIssueHandler(d *Deps) *DeferredIssueHandler {
	return &DeferredIssueHandler{router: DeferredIssue(d), svc: d.Issuance, log: d.Log}
}

// trigger is the part of a payload that tells the two triggers apart.
type trigger struct {
	HTTPMethod string          `json:"httpMethod"`
	Resource   string          `json:"resource"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`
}

// Invoke implements lambda.Handler.
func (h *DeferredIssueHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var t trigger
	if err := json.Unmarshal(payload, &t); err != nil {
		return nil, fmt.Errorf("deferred-issue: the payload is neither an API Gateway proxy event nor an EventBridge event: %w", err)
	}
	switch {
	case t.HTTPMethod != "" && t.Resource != "":
		var req apigw.Request
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, fmt.Errorf("deferred-issue: decode proxy event: %w", err)
		}
		resp, err := h.router.ServeEvent(ctx, req)
		if err != nil {
			return nil, err
		}
		out, err := json.Marshal(resp)
		if err != nil {
			return nil, fmt.Errorf("deferred-issue: encode proxy response: %w", err)
		}
		return out, nil
	case t.DetailType != "" && t.Source != "" && len(t.Detail) > 0:
		var ev events.CloudWatchEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("deferred-issue: decode EventBridge event: %w", err)
		}
		return nil, h.HandleEvent(ctx, ev)
	}
	return nil, errors.New("deferred-issue: the payload is neither an API Gateway proxy event (httpMethod, resource) " +
		"nor an EventBridge event (detail-type, source, detail)")
}

// HandleEvent completes or denies the exchange of a DeferredCredentialReady / DeferredCredentialDenied event.
// It returns an error only for failures a retry may cure (see DeferredIssueHandler).
func (h *DeferredIssueHandler) HandleEvent(ctx context.Context, ev events.CloudWatchEvent) error {
	attrs := []any{slog.String("detail_type", ev.DetailType), slog.String("event_id", ev.ID)}
	var detail DeferredEventDetail
	err := apigw.DecodeJSONBytes(ev.Detail, &detail)
	if err == nil && detail.CredentialExchangeID == "" {
		err = apigw.BadRequest("detail.credentialExchangeId is required")
	}
	if err == nil {
		attrs = append(attrs, slog.String("credential_exchange_id", detail.CredentialExchangeID))
		err = detailMatchesType(ev.DetailType, &detail)
	}
	if err != nil {
		h.dropped(ctx, attrs, err)
		return nil
	}
	res, err := h.svc.ApplyDeferred(ctx, detail.CredentialExchangeID, detail.DeferredRequest)
	if err != nil {
		if permanent(err) {
			h.dropped(ctx, attrs, err)
			return nil
		}
		h.log.ErrorContext(ctx, "deferred completion event failed; EventBridge retries it",
			append(attrs, slog.String("error", err.Error()))...)
		return fmt.Errorf("deferred-issue: %s for exchange %s: %w", ev.DetailType, detail.CredentialExchangeID, err)
	}
	h.log.InfoContext(ctx, "deferred completion event applied", append(attrs, slog.Bool("changed", res.Changed),
		slog.String("status", string(res.Record.Status)), slog.String("credential_status", string(res.Record.CredentialStatus)))...)
	return nil
}

// detailMatchesType checks the detail against its detail-type: a Denied event denies (issuanceDenied is implied
// when absent), a Ready event carries claims and no denial.
func detailMatchesType(detailType string, d *DeferredEventDetail) error {
	switch detailType {
	case DetailTypeDeferredDenied:
		if d.Credential != nil || len(d.Credentials) > 0 {
			return apigw.BadRequest("a %s event carries no claims; send them as %s", DetailTypeDeferredDenied, DetailTypeDeferredReady)
		}
		d.IssuanceDenied = true
	case DetailTypeDeferredReady:
		if d.IssuanceDenied {
			return apigw.BadRequest("a %s event does not deny; send issuanceDenied as %s", DetailTypeDeferredReady, DetailTypeDeferredDenied)
		}
	default:
		return apigw.BadRequest("detail-type must be %s or %s", DetailTypeDeferredReady, DetailTypeDeferredDenied)
	}
	return nil
}

// permanent reports whether a use case error stays the same however often the event is retried.
func permanent(err error) bool {
	var v *validation.Error
	var a *apigw.Error
	return errors.As(err, &v) || errors.As(err, &a) || errors.Is(err, exchange.ErrNotFound) ||
		errors.Is(err, admin.ErrCompletionRefused)
}

// dropped logs an event that is acknowledged without effect: ids and the reason only (reasons never quote
// claim values or the denial text).
func (h *DeferredIssueHandler) dropped(ctx context.Context, attrs []any, err error) {
	h.log.WarnContext(ctx, "deferred completion event dropped (permanent error, not retried)",
		append(attrs, slog.String("reason", reasonOf(err)))...)
}

// reasonOf is the client-facing reason of an error.
func reasonOf(err error) string {
	var a *apigw.Error
	var ref *admin.RefusalError
	switch {
	case errors.As(err, &ref):
		return ref.Reason
	case errors.As(err, &a):
		return a.Description
	case errors.Is(err, exchange.ErrNotFound):
		return "the credential exchange does not exist, was deleted or is past its retention"
	}
	return err.Error()
}

// completeDeferred is PUT /credential/history/{credentialExchangeId}: complete or deny a Deferred exchange; 200
// with the record, also when the same completion had already been applied.
func (d *Deps) completeDeferred(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "credentialExchangeId")
	if err != nil {
		return apigw.Response{}, err
	}
	var body DeferredIssueRequest
	if err := apigw.DecodeJSON(req, &body); err != nil {
		return apigw.Response{}, err
	}
	res, err := d.Issuance.ApplyDeferred(ctx, id, body)
	if err != nil {
		return apigw.Response{}, deferredError(err)
	}
	return apigw.JSON(http.StatusOK, HistoryResponse{CredentialHistory: historyrecord.From(&res.Record)}, "Cache-Control", "no-store")
}

// deferredError maps a refusal to 409 with its reason, the rest as every admin route does.
func deferredError(err error) error {
	var ref *admin.RefusalError
	if errors.As(err, &ref) {
		return apigw.Errorf(http.StatusConflict, "conflict", "%s", ref.Reason)
	}
	return apiError(err, historyWhat)
}
