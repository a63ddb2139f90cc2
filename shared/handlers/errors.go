package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// apiError maps the use cases' errors to admin API errors; anything else stays an internal error (500 whose
// cause is logged, never shown).
func apiError(err error, what string) error {
	var v *validation.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, validation.ErrTooLarge) && errors.As(err, &v):
		return apigw.Errorf(http.StatusRequestEntityTooLarge, "invalid_request", "%s", v.Error())
	case errors.As(err, &v):
		return apigw.BadRequest("%s", v.Error())
	case errors.Is(err, exchange.ErrNotFound):
		return apigw.NotFound("%s not found (or past its retention)", what)
	case errors.Is(err, exchange.ErrAlreadyExists):
		return apigw.Errorf(http.StatusConflict, "conflict", "%s already exists", what)
	case errors.Is(err, exchange.ErrTransitionRefused):
		return apigw.Wrap(err, http.StatusConflict, "conflict", "the "+what+" is in a status that does not allow this change")
	case errors.Is(err, exchange.ErrConflict):
		return apigw.Wrap(err, http.StatusConflict, "conflict", "the "+what+" was changed concurrently; read it again and retry")
	}
	return err
}

// pageRequest reads limit and cursor from the query string; limit must be a whole number.
func pageRequest(req *apigw.Request) (exchange.PageRequest, error) {
	p := exchange.PageRequest{Cursor: apigw.Query(req, "cursor")}
	if raw := apigw.Query(req, "limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			return p, apigw.BadRequest("limit: must be a whole number from 1 to %d", exchange.MaxPageLimit)
		}
		if n == 0 {
			return p, apigw.BadRequest("limit: must be from 1 to %d", exchange.MaxPageLimit)
		}
		p.Limit = n
	}
	return p, nil
}

// pageOf is the pagination object of a list response.
func pageOf(limit int, next string) Pagination {
	if limit == 0 {
		limit = exchange.DefaultPageLimit
	}
	return Pagination{Limit: limit, NextCursor: next}
}
