package handlers

import (
	"context"
	"net/http"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
)

// Admin routes of the DefinitionsFunction: credential definitions, and presentation definitions (the same kind of
// configuration item, with the same table permissions).
const (
	RouteDefinitions             = AdminBase + "/credential-definitions"
	RouteDefinition              = AdminBase + "/credential-definition"
	RouteDefinitionX             = AdminBase + "/credential-definition/{credentialDefinitionId}"
	RoutePresentationDefinitions = AdminBase + "/presentation-definitions"
	RoutePresentationDefinition  = AdminBase + "/presentation-definition"
	RoutePresentationDefinitionX = AdminBase + "/presentation-definition/{presentationDefinitionId}"
)

// Definitions is the router of the DefinitionsFunction: credential and presentation definition CRUD and list.
func Definitions(d *Deps) *apigw.Router {
	r := d.router("definitions")
	svc := d.Issuance
	configRoutes[DefinitionRequest, definition.Definition]{
		one: RouteDefinition, item: RouteDefinitionX, list: RouteDefinitions, param: "credentialDefinitionId",
		what: "credential definition", create: svc.DefineCredential, get: svc.GetDefinition,
		replace: svc.ReplaceDefinition, delete: svc.DeleteDefinition, page: svc.ListDefinitions,
		wrap: func(def definition.Definition) any { return DefinitionResponse{CredentialDefinition: def} },
		wrapPage: func(defs []definition.Definition, p Pagination) any {
			return DefinitionListResponse{CredentialDefinitions: defs, Pagination: p}
		},
	}.register(r)
	configRoutes[PresentationDefinitionRequest, presentationdef.Definition]{
		one: RoutePresentationDefinition, item: RoutePresentationDefinitionX, list: RoutePresentationDefinitions,
		param: "presentationDefinitionId", what: "presentation definition", create: svc.DefinePresentation,
		get: svc.GetPresentationDefinition, replace: svc.ReplacePresentationDefinition,
		delete: svc.DeletePresentationDefinition, page: svc.ListPresentationDefinitions,
		wrap: func(def presentationdef.Definition) any {
			return PresentationDefinitionResponse{PresentationDefinition: def}
		},
		wrapPage: func(defs []presentationdef.Definition, p Pagination) any {
			return PresentationDefinitionListResponse{PresentationDefinitions: defs, Pagination: p}
		},
	}.register(r)
	return r
}

// configRoutes are the five admin routes of one kind of definition: create, read, replace, delete, list.
type configRoutes[Spec, Def any] struct {
	one, item, list, param, what string

	create   func(context.Context, Spec) (Def, error)
	get      func(context.Context, string) (Def, error)
	replace  func(context.Context, string, Spec) (Def, error)
	delete   func(context.Context, string) error
	page     func(context.Context, exchange.PageRequest) (exchange.Page[Def], error)
	wrap     func(Def) any
	wrapPage func([]Def, Pagination) any
}

func (c configRoutes[Spec, Def]) register(r *apigw.Router) {
	r.Handle(http.MethodPost, c.one, apigw.Admin, func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		var spec Spec
		if err := apigw.DecodeJSON(req, &spec); err != nil {
			return apigw.Response{}, err
		}
		def, err := c.create(ctx, spec)
		if err != nil {
			return apigw.Response{}, apiError(err, c.what)
		}
		return apigw.JSON(http.StatusCreated, c.wrap(def))
	})
	r.Handle(http.MethodGet, c.item, apigw.Admin, func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		id, err := apigw.PathParam(req, c.param)
		if err != nil {
			return apigw.Response{}, err
		}
		def, err := c.get(ctx, id)
		if err != nil {
			return apigw.Response{}, apiError(err, c.what)
		}
		return apigw.JSON(http.StatusOK, c.wrap(def))
	})
	r.Handle(http.MethodPut, c.item, apigw.Admin, func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		id, err := apigw.PathParam(req, c.param)
		if err != nil {
			return apigw.Response{}, err
		}
		var spec Spec
		if err := apigw.DecodeJSON(req, &spec); err != nil {
			return apigw.Response{}, err
		}
		def, err := c.replace(ctx, id, spec)
		if err != nil {
			return apigw.Response{}, apiError(err, c.what)
		}
		return apigw.JSON(http.StatusOK, c.wrap(def))
	})
	r.Handle(http.MethodDelete, c.item, apigw.Admin, func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		id, err := apigw.PathParam(req, c.param)
		if err != nil {
			return apigw.Response{}, err
		}
		if err := c.delete(ctx, id); err != nil {
			return apigw.Response{}, apiError(err, c.what)
		}
		return apigw.NoContent(), nil
	})
	r.Handle(http.MethodGet, c.list, apigw.Admin, func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		page, err := pageRequest(req)
		if err != nil {
			return apigw.Response{}, err
		}
		p, err := c.page(ctx, page)
		if err != nil {
			return apigw.Response{}, apiError(err, c.what)
		}
		return apigw.JSON(http.StatusOK, c.wrapPage(p.Items, pageOf(page.Limit, p.NextCursor)))
	})
}
