package handlers

import (
	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
)

// The request and response bodies of the admin API; docs/openapi.yaml describes the same shapes and a test
// keeps them equal.

// DefinitionRequest is the body of POST /credential-definition and PUT /credential-definition/{id}.
type DefinitionRequest = definition.Spec

// DefinitionResponse wraps one definition.
type DefinitionResponse struct {
	CredentialDefinition definition.Definition `json:"credentialDefinition"`
}

// Pagination says how a list page was cut; NextCursor is empty on the last page.
type Pagination struct {
	Limit      int    `json:"limit"`
	NextCursor string `json:"nextCursor"`
}

// DefinitionListResponse is one page of definitions, newest first.
type DefinitionListResponse struct {
	CredentialDefinitions []definition.Definition `json:"credentialDefinitions"`
	Pagination            Pagination              `json:"pagination"`
}

// PresentationDefinitionRequest is the body of POST /presentation-definition and PUT
// /presentation-definition/{id}.
type PresentationDefinitionRequest = presentationdef.Spec

// PresentationDefinitionResponse wraps one presentation definition.
type PresentationDefinitionResponse struct {
	PresentationDefinition presentationdef.Definition `json:"presentationDefinition"`
}

// PresentationDefinitionListResponse is one page of presentation definitions, newest first.
type PresentationDefinitionListResponse struct {
	PresentationDefinitions []presentationdef.Definition `json:"presentationDefinitions"`
	Pagination              Pagination                   `json:"pagination"`
}

// IssueRequest is the body of POST /credential/issue.
type IssueRequest = admin.IssueRequest

// HistoryResponse wraps one history record (the issue response too).
type HistoryResponse struct {
	CredentialHistory historyrecord.Record `json:"credentialHistory"`
}

// HistoryListResponse is one page of history records, newest first.
type HistoryListResponse struct {
	CredentialHistory []historyrecord.Record `json:"credentialHistory"`
	Pagination        Pagination             `json:"pagination"`
}

// IndividualRequest is the body of PUT /individual/{individualId}.
type IndividualRequest struct {
	CredentialOfferEndpoint string `json:"credentialOfferEndpoint"`
}

// IndividualResponse wraps an individual's registration.
type IndividualResponse struct {
	Individual admin.Individual `json:"individual"`
}
