package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
)

// RevocationStatusRequest is the body of PUT .../credential/history/{credentialExchangeId}/revocation-status.
type RevocationStatusRequest struct {
	// RevocationStatus is Operational, Suspended or Revoked (final).
	RevocationStatus string `json:"revocationStatus"`
}

// RegisterRevocation adds PUT .../credential/history/{credentialExchangeId}/revocation-status to r
// (StatusFunction).
func (r *StatusListRoutes) RegisterRevocation(rt *apigw.Router) {
	rt.Handle(http.MethodPut, RouteRevocationStatus, apigw.Admin, r.setRevocationStatus)
}

// setRevocationStatus changes the revocationStatus of every credential of the exchange and answers 200 with the
// updated record. It works from the exchange's revocation item, which outlives the record: when the record has
// passed its retention or was deleted, the answer is the record shape with only credentialExchangeId,
// credentialDefinitionId, supportRevocation, revocationStatus and updatedAt set and every other field empty
// (docs/status-lists.md). 400 for an unknown status or a definition without revocation, 404 for an exchange
// with neither record nor revocation item (unknown, or its credentials expired), 409 when the credentials are
// revoked (final) or none was issued yet.
func (r *StatusListRoutes) setRevocationStatus(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "credentialExchangeId")
	if err != nil {
		return apigw.Response{}, err
	}
	var body RevocationStatusRequest
	if err := apigw.DecodeJSON(req, &body); err != nil {
		return apigw.Response{}, err
	}
	if body.RevocationStatus == "" {
		return apigw.Response{}, apigw.BadRequest("revocationStatus: is required; use Operational, Suspended or Revoked")
	}
	svc, err := r.service(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	rec, err := svc.SetRevocationStatus(ctx, id, exchange.RevocationStatus(body.RevocationStatus))
	if err != nil {
		return apigw.Response{}, revocationError(err)
	}
	return apigw.JSON(http.StatusOK, HistoryResponse{CredentialHistory: historyrecord.From(&rec)}, "Cache-Control", "no-store")
}

// revocationError names why a revocation status change was refused; other errors map as everywhere.
func revocationError(err error) error {
	switch {
	case errors.Is(err, revocation.ErrNotSupported):
		return apigw.BadRequest("%s", revocation.ErrNotSupported.Error())
	case errors.Is(err, revocation.ErrRevokedIsFinal):
		return apigw.Wrap(err, http.StatusConflict, "conflict", revocation.ErrRevokedIsFinal.Error())
	case errors.Is(err, revocation.ErrNoCredentialIssued):
		return apigw.Wrap(err, http.StatusConflict, "conflict", revocation.ErrNoCredentialIssued.Error())
	}
	return apiError(err, historyWhat)
}
