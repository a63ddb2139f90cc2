package handlers

import (
	"context"
	"net/http"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
)

// Admin routes of the DefinitionsFunction.
const (
	RouteDefinitions = AdminBase + "/credential-definitions"
	RouteDefinition  = AdminBase + "/credential-definition"
	RouteDefinitionX = AdminBase + "/credential-definition/{credentialDefinitionId}"
)

// Definitions is the router of the DefinitionsFunction: credential definition CRUD and list.
func Definitions(d *Deps) *apigw.Router {
	r := d.router("definitions")
	r.Handle(http.MethodPost, RouteDefinition, apigw.Admin, d.createDefinition)
	r.Handle(http.MethodGet, RouteDefinitionX, apigw.Admin, d.getDefinition)
	r.Handle(http.MethodPut, RouteDefinitionX, apigw.Admin, d.replaceDefinition)
	r.Handle(http.MethodDelete, RouteDefinitionX, apigw.Admin, d.deleteDefinition)
	r.Handle(http.MethodGet, RouteDefinitions, apigw.Admin, d.listDefinitions)
	return r
}

const definitionWhat = "credential definition"

func (d *Deps) createDefinition(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var spec DefinitionRequest
	if err := apigw.DecodeJSON(req, &spec); err != nil {
		return apigw.Response{}, err
	}
	def, err := d.Issuance.DefineCredential(ctx, spec)
	if err != nil {
		return apigw.Response{}, apiError(err, definitionWhat)
	}
	return apigw.JSON(http.StatusCreated, DefinitionResponse{CredentialDefinition: def})
}

func (d *Deps) getDefinition(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "credentialDefinitionId")
	if err != nil {
		return apigw.Response{}, err
	}
	def, err := d.Issuance.GetDefinition(ctx, id)
	if err != nil {
		return apigw.Response{}, apiError(err, definitionWhat)
	}
	return apigw.JSON(http.StatusOK, DefinitionResponse{CredentialDefinition: def})
}

func (d *Deps) replaceDefinition(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "credentialDefinitionId")
	if err != nil {
		return apigw.Response{}, err
	}
	var spec DefinitionRequest
	if err := apigw.DecodeJSON(req, &spec); err != nil {
		return apigw.Response{}, err
	}
	def, err := d.Issuance.ReplaceDefinition(ctx, id, spec)
	if err != nil {
		return apigw.Response{}, apiError(err, definitionWhat)
	}
	return apigw.JSON(http.StatusOK, DefinitionResponse{CredentialDefinition: def})
}

func (d *Deps) deleteDefinition(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "credentialDefinitionId")
	if err != nil {
		return apigw.Response{}, err
	}
	if err := d.Issuance.DeleteDefinition(ctx, id); err != nil {
		return apigw.Response{}, apiError(err, definitionWhat)
	}
	return apigw.NoContent(), nil
}

func (d *Deps) listDefinitions(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	page, err := pageRequest(req)
	if err != nil {
		return apigw.Response{}, err
	}
	p, err := d.Issuance.ListDefinitions(ctx, page)
	if err != nil {
		return apigw.Response{}, apiError(err, definitionWhat)
	}
	return apigw.JSON(http.StatusOK, DefinitionListResponse{CredentialDefinitions: p.Items, Pagination: pageOf(page.Limit, p.NextCursor)})
}
