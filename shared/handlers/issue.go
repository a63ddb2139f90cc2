package handlers

import (
	"context"
	"net/http"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
)

// Admin routes of the IssueFunction.
const (
	RouteIssue      = AdminBase + "/credential/issue"
	RouteIndividual = AdminBase + "/individual/{individualId}"
)

// Issue is the router of the IssueFunction: the seed's issue endpoint and individuals' offer endpoints.
func Issue(d *Deps) *apigw.Router {
	r := d.router("issue")
	r.Handle(http.MethodPost, RouteIssue, apigw.Admin, d.issueCredential)
	r.Handle(http.MethodPut, RouteIndividual, apigw.Admin, d.putIndividual)
	r.Handle(http.MethodGet, RouteIndividual, apigw.Admin, d.getIndividual)
	r.Handle(http.MethodDelete, RouteIndividual, apigw.Admin, d.deleteIndividual)
	return r
}

// DecodeIssueRequest decodes and validates (without the store) the body of POST /credential/issue; every error
// is a 400 (or 415) *apigw.Error naming the field.
func DecodeIssueRequest(req *apigw.Request) (IssueRequest, error) {
	var body IssueRequest
	if err := apigw.DecodeJSON(req, &body); err != nil {
		return body, err
	}
	if err := body.Validate(); err != nil {
		return body, apiError(err, "credential exchange")
	}
	return body, nil
}

func (d *Deps) issueCredential(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	body, err := DecodeIssueRequest(req)
	if err != nil {
		return apigw.Response{}, err
	}
	rec, err := d.Issuance.IssueCredential(ctx, body)
	if err != nil {
		return apigw.Response{}, apiError(err, "credential exchange")
	}
	return apigw.JSON(http.StatusOK, HistoryResponse{CredentialHistory: historyrecord.From(&rec).WithUserPin(body.UserPin)},
		"Cache-Control", "no-store")
}

const individualWhat = "individual"

func (d *Deps) putIndividual(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "individualId")
	if err != nil {
		return apigw.Response{}, err
	}
	var body IndividualRequest
	if err := apigw.DecodeJSON(req, &body); err != nil {
		return apigw.Response{}, err
	}
	ind, err := d.Issuance.RegisterIndividual(ctx, id, body.CredentialOfferEndpoint)
	if err != nil {
		return apigw.Response{}, apiError(err, individualWhat)
	}
	return apigw.JSON(http.StatusOK, IndividualResponse{Individual: ind})
}

func (d *Deps) getIndividual(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "individualId")
	if err != nil {
		return apigw.Response{}, err
	}
	ind, err := d.Issuance.GetIndividual(ctx, id)
	if err != nil {
		return apigw.Response{}, apiError(err, individualWhat)
	}
	return apigw.JSON(http.StatusOK, IndividualResponse{Individual: ind})
}

func (d *Deps) deleteIndividual(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "individualId")
	if err != nil {
		return apigw.Response{}, err
	}
	if err := d.Issuance.DeleteIndividual(ctx, id); err != nil {
		return apigw.Response{}, apiError(err, individualWhat)
	}
	return apigw.NoContent(), nil
}
