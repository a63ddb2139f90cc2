package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/skip2/go-qrcode"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
)

// Admin routes of the StatusFunction.
const (
	RouteHistory          = AdminBase + "/credential/history"
	RouteHistoryX         = AdminBase + "/credential/history/{credentialExchangeId}"
	RouteOfferQR          = AdminBase + "/credential/history/{credentialExchangeId}/offer-qr"
	RouteRevocationStatus = AdminBase + "/credential/history/{credentialExchangeId}/revocation-status"
)

// QR code sizes in pixels (query parameter size).
const (
	DefaultQRSize = 320
	MinQRSize     = 128
	MaxQRSize     = 1024
)

// Status is the router of the StatusFunction: history read, list, delete, the offer as a QR code, and the
// revocation status route (status list routes).
func Status(d *Deps) *apigw.Router {
	r := d.router("status")
	r.Handle(http.MethodGet, RouteHistory, apigw.Admin, d.listHistory)
	r.Handle(http.MethodGet, RouteHistoryX, apigw.Admin, d.getHistory)
	r.Handle(http.MethodDelete, RouteHistoryX, apigw.Admin, d.deleteHistory)
	r.Handle(http.MethodGet, RouteOfferQR, apigw.Admin, d.offerQR)
	NewStatusListRoutes(d).RegisterRevocation(r)
	return r
}

const historyWhat = "credential history record"

func (d *Deps) getHistory(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "credentialExchangeId")
	if err != nil {
		return apigw.Response{}, err
	}
	rec, err := d.Issuance.GetExchange(ctx, id)
	if err != nil {
		return apigw.Response{}, apiError(err, historyWhat)
	}
	return apigw.JSON(http.StatusOK, HistoryResponse{CredentialHistory: historyrecord.From(&rec)}, "Cache-Control", "no-store")
}

func (d *Deps) listHistory(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	page, err := pageRequest(req)
	if err != nil {
		return apigw.Response{}, err
	}
	filter := exchange.Filter{CredentialDefinitionID: apigw.Query(req, "credentialDefinitionId")}
	if raw := apigw.Query(req, "status"); raw != "" {
		s, err := exchange.ParseStatus(raw)
		if err != nil {
			return apigw.Response{}, apigw.BadRequest("status: %v", err)
		}
		filter.Status = s
	}
	p, err := d.Issuance.ListExchanges(ctx, filter, page)
	if err != nil {
		return apigw.Response{}, apiError(err, historyWhat)
	}
	return apigw.JSON(http.StatusOK, HistoryListResponse{CredentialHistory: historyrecord.List(p.Items),
		Pagination: pageOf(page.Limit, p.NextCursor)},
		"Cache-Control", "no-store")
}

func (d *Deps) deleteHistory(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "credentialExchangeId")
	if err != nil {
		return apigw.Response{}, err
	}
	if err := d.Issuance.DeleteExchange(ctx, id); err != nil {
		return apigw.Response{}, apiError(err, historyWhat)
	}
	return apigw.NoContent(), nil
}

// offerQR renders the record's offer deep link as a PNG QR code (medium error correction).
func (d *Deps) offerQR(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "credentialExchangeId")
	if err != nil {
		return apigw.Response{}, err
	}
	size := DefaultQRSize
	if raw := apigw.Query(req, "size"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < MinQRSize || n > MaxQRSize {
			return apigw.Response{}, apigw.BadRequest("size: must be a whole number of pixels from %d to %d", MinQRSize, MaxQRSize)
		}
		size = n
	}
	rec, err := d.Issuance.GetExchange(ctx, id)
	if err != nil {
		return apigw.Response{}, apiError(err, historyWhat)
	}
	png, err := qrcode.Encode(rec.CredentialOffer, qrcode.Medium, size)
	if err != nil {
		return apigw.Response{}, apigw.Wrap(err, http.StatusInternalServerError, "server_error", "the offer could not be encoded as a QR code")
	}
	return apigw.Binary(http.StatusOK, "image/png", png, "Cache-Control", "no-store"), nil
}
