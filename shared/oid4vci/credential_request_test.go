package oid4vci

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCredentialRequest(t *testing.T) {
	const jsonCT = "application/json"
	tests := []struct {
		name      string
		body      string
		ct        string
		maxProofs int
		want      *CredentialRequest
		wantCode  string
		wantDesc  string
	}{
		{name: "1.0 configuration id", body: `{"credential_configuration_id":"pda1","proofs":{"jwt":["a.b.c"]}}`,
			want: &CredentialRequest{Dialect: DialectV1, CredentialConfigurationID: "pda1", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofsArray}},
		{name: "1.0 batch", body: `{"credential_configuration_id":"pda1","proofs":{"jwt":["a.b.c","d.e.f"]}}`, maxProofs: 3,
			want: &CredentialRequest{Dialect: DialectV1, CredentialConfigurationID: "pda1", ProofJWTs: []string{"a.b.c", "d.e.f"}, ProofShape: ProofsArray}},
		{name: "1.0 credential identifier", body: `{"credential_identifier":"ds-1","proofs":{"jwt":["a.b.c"]}}`,
			want: &CredentialRequest{Dialect: DialectV1, CredentialIdentifier: "ds-1", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofsArray}},
		{name: "charset parameter", ct: "application/json; charset=UTF-8", body: `{"credential_configuration_id":"x","proofs":{"jwt":["a.b.c"]}}`,
			want: &CredentialRequest{Dialect: DialectV1, CredentialConfigurationID: "x", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofsArray}},
		{name: "unknown members ignored", body: `{"credential_configuration_id":"x","proofs":{"jwt":["a.b.c"]},"extension":{"a":1}}`,
			want: &CredentialRequest{Dialect: DialectV1, CredentialConfigurationID: "x", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofsArray}},
		{name: "null members count as absent", body: `{"credential_configuration_id":"x","credential_identifier":null,"proof":null,"proofs":{"jwt":["a.b.c"]}}`,
			want: &CredentialRequest{Dialect: DialectV1, CredentialConfigurationID: "x", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofsArray}},
		{name: "draft 13 format and vct", body: `{"format":"vc+sd-jwt","vct":"PDA1","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
			want: &CredentialRequest{Dialect: DialectDraft13, Format: "vc+sd-jwt", VCT: "PDA1", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofSingle}},
		{name: "draft 13 with dc+sd-jwt", body: `{"format":"dc+sd-jwt","vct":"PDA1","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
			want: &CredentialRequest{Dialect: DialectDraft13, Format: "dc+sd-jwt", VCT: "PDA1", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofSingle}},
		{name: "draft 13 batch with proofs", body: `{"format":"vc+sd-jwt","vct":"PDA1","proofs":{"jwt":["a.b.c","d.e.f"]}}`, maxProofs: 2,
			want: &CredentialRequest{Dialect: DialectDraft13, Format: "vc+sd-jwt", VCT: "PDA1", ProofJWTs: []string{"a.b.c", "d.e.f"}, ProofShape: ProofsArray}},
		{name: "draft 13 credential identifier with proof", body: `{"credential_identifier":"ds-1","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
			want: &CredentialRequest{Dialect: DialectDraft13, CredentialIdentifier: "ds-1", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofSingle}},
		{name: "draft 12 credential definition", body: `{"format":"vc+sd-jwt","credential_definition":{"vct":"PDA1"},"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
			want: &CredentialRequest{Dialect: DialectDraft12, Format: "vc+sd-jwt", VCT: "PDA1", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofSingle}},
		{name: "draft 13 mdoc", body: `{"format":"mso_mdoc","doctype":"org.iso.18013.5.1.mDL","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
			want: &CredentialRequest{Dialect: DialectDraft13, Format: "mso_mdoc", DocType: "org.iso.18013.5.1.mDL", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofSingle}},
		{name: "draft 13 jwt vc", body: `{"format":"jwt_vc_json","credential_definition":{"type":["VerifiableCredential","EmployeeID"]},"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
			want: &CredentialRequest{Dialect: DialectDraft13, Format: "jwt_vc_json", Types: []string{"VerifiableCredential", "EmployeeID"}, ProofJWTs: []string{"a.b.c"}, ProofShape: ProofSingle}},
		{name: "draft 12 same vct twice", body: `{"format":"vc+sd-jwt","vct":"PDA1","credential_definition":{"vct":"PDA1"},"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
			want: &CredentialRequest{Dialect: DialectDraft12, Format: "vc+sd-jwt", VCT: "PDA1", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofSingle}},

		{name: "wrong content type", ct: "text/plain", body: `{}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "application/json"},
		{name: "encrypted request", ct: "application/jwt", body: `eyJ`, wantCode: ErrInvalidCredentialRequest, wantDesc: "encrypted requests"},
		{name: "not JSON", body: `credential`, wantCode: ErrInvalidCredentialRequest, wantDesc: "one JSON object"},
		{name: "array", body: `[]`, wantCode: ErrInvalidCredentialRequest, wantDesc: "one JSON object"},
		{name: "trailing data", body: `{"credential_configuration_id":"x"} {}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "one JSON object"},
		{name: "repeated parameter", body: `{"credential_configuration_id":"x","credential_configuration_id":"y"}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "repeats the parameter credential_configuration_id"},
		{name: "repeated unknown parameter not echoed", body: `{"secret-4821":1,"secret-4821":2}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "(an unnamed parameter)"},
		{name: "too large", body: `{"x":"` + strings.Repeat("a", MaxCredentialRequestBytes) + `"}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "larger than"},
		{name: "encryption with an empty jwk", body: `{"credential_configuration_id":"x","proofs":{"jwt":["a.b.c"]},"credential_response_encryption":{"jwk":{},"enc":"A128GCM"}}`,
			wantCode: ErrInvalidEncryptionParameters, wantDesc: "not a valid JWK"},
		{name: "nothing identified", body: `{"proofs":{"jwt":["a.b.c"]}}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "credential_configuration_id"},
		{name: "configuration id and identifier", body: `{"credential_configuration_id":"x","credential_identifier":"y","proofs":{"jwt":["a.b.c"]}}`,
			wantCode: ErrInvalidCredentialRequest, wantDesc: "exactly one"},
		{name: "format with configuration id", body: `{"credential_configuration_id":"x","format":"dc+sd-jwt","proofs":{"jwt":["a.b.c"]}}`,
			wantCode: ErrInvalidCredentialRequest, wantDesc: "exactly one"},
		{name: "configuration id not a string", body: `{"credential_configuration_id":7}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "credential_configuration_id must be a non-empty string"},
		{name: "empty configuration id", body: `{"credential_configuration_id":""}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "non-empty"},
		{name: "draft 15 configuration id with singular proof", body: `{"credential_configuration_id":"x","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
			want: &CredentialRequest{Dialect: DialectDraft15, CredentialConfigurationID: "x", ProofJWTs: []string{"a.b.c"}, ProofShape: ProofSingle}},
		{name: "draft 15 singular proof of another type", body: `{"credential_configuration_id":"x","proof":{"proof_type":"ldp_vp","ldp_vp":{}}}`,
			wantCode: ErrInvalidProof, wantDesc: "only the jwt and attestation proof types"},
		{name: "attestation proof type", body: `{"credential_configuration_id":"x","proofs":{"attestation":["k.a.t"]}}`,
			want: &CredentialRequest{Dialect: DialectV1, CredentialConfigurationID: "x", KeyAttestation: "k.a.t", ProofShape: ProofsArray}},
		{name: "draft 15 single attestation proof", body: `{"credential_configuration_id":"x","proof":{"proof_type":"attestation","attestation":"k.a.t"}}`,
			want: &CredentialRequest{Dialect: DialectDraft15, CredentialConfigurationID: "x", KeyAttestation: "k.a.t", ProofShape: ProofSingle}},
		{name: "two attestations", body: `{"credential_configuration_id":"x","proofs":{"attestation":["a.b.c","d.e.f"]}}`, maxProofs: 5,
			wantCode: ErrInvalidProof, wantDesc: "exactly one key attestation"},
		{name: "attestation not a string", body: `{"credential_configuration_id":"x","proofs":{"attestation":[7]}}`,
			wantCode: ErrInvalidProof, wantDesc: "proofs.attestation entry 1"},
		{name: "single attestation missing", body: `{"credential_configuration_id":"x","proof":{"proof_type":"attestation","jwt":"a.b.c"}}`,
			wantCode: ErrInvalidProof, wantDesc: "proof.attestation is required"},
		{name: "proofs missing", body: `{"credential_configuration_id":"x"}`, wantCode: ErrInvalidProof, wantDesc: "proofs"},
		{name: "draft proof missing", body: `{"format":"vc+sd-jwt","vct":"PDA1"}`, wantCode: ErrInvalidProof, wantDesc: "proof_type jwt"},
		{name: "proof and proofs", body: `{"credential_identifier":"x","proof":{"proof_type":"jwt","jwt":"a.b.c"},"proofs":{"jwt":["a.b.c"]}}`,
			wantCode: ErrInvalidCredentialRequest, wantDesc: "either proof or proofs"},
		{name: "proofs over batch size", body: `{"credential_configuration_id":"x","proofs":{"jwt":["a.b.c","d.e.f"]}}`, maxProofs: 1,
			wantCode: ErrInvalidProof, wantDesc: "at most 1 proofs"},
		{name: "proofs empty array", body: `{"credential_configuration_id":"x","proofs":{"jwt":[]}}`, wantCode: ErrInvalidProof, wantDesc: "non-empty array"},
		{name: "proofs not an object", body: `{"credential_configuration_id":"x","proofs":["a.b.c"]}`, wantCode: ErrInvalidProof, wantDesc: "JSON object"},
		{name: "proofs two types", body: `{"credential_configuration_id":"x","proofs":{"jwt":["a.b.c"],"attestation":["a.b.c"]}}`, wantCode: ErrInvalidProof, wantDesc: "exactly one proof type"},
		{name: "proofs other type", body: `{"credential_configuration_id":"x","proofs":{"di_vp":[{}]}}`, wantCode: ErrInvalidProof, wantDesc: "only the jwt and attestation proof types"},
		{name: "proofs entry not a string", body: `{"credential_configuration_id":"x","proofs":{"jwt":[{}]}}`, wantCode: ErrInvalidProof, wantDesc: "entry 1"},
		{name: "proofs repeated type", body: `{"credential_configuration_id":"x","proofs":{"jwt":["a"],"jwt":["b"]}}`, wantCode: ErrInvalidProof, wantDesc: "JSON object"},
		{name: "proof other type", body: `{"format":"vc+sd-jwt","vct":"V","proof":{"proof_type":"cwt","cwt":"x"}}`, wantCode: ErrInvalidProof, wantDesc: "only the jwt and attestation proof types"},
		{name: "proof without jwt", body: `{"format":"vc+sd-jwt","vct":"V","proof":{"proof_type":"jwt"}}`, wantCode: ErrInvalidProof, wantDesc: "proof.jwt is required"},
		{name: "proof without type", body: `{"format":"vc+sd-jwt","vct":"V","proof":{"jwt":"a.b.c"}}`, wantCode: ErrInvalidProof, wantDesc: "proof_type"},
		{name: "unknown format", body: `{"format":"ldp_vc","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`, wantCode: ErrUnsupportedCredentialFormat, wantDesc: "mso_mdoc and jwt_vc_json"},
		{name: "mdoc without doctype", body: `{"format":"mso_mdoc","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "doctype is required"},
		{name: "mdoc doctype not a string", body: `{"format":"mso_mdoc","doctype":1,"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "doctype is required"},
		{name: "jwt vc without definition", body: `{"format":"jwt_vc_json","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "credential_definition with type"},
		{name: "jwt vc type not an array", body: `{"format":"jwt_vc_json","credential_definition":{"type":"VerifiableCredential"},"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "non-empty array of strings"},
		{name: "jwt vc empty type", body: `{"format":"jwt_vc_json","credential_definition":{"type":[]},"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "non-empty array of strings"},
		{name: "format without vct", body: `{"format":"vc+sd-jwt","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`, wantCode: ErrInvalidCredentialRequest, wantDesc: "vct is required"},
		{name: "vct and definition differ", body: `{"format":"vc+sd-jwt","vct":"A","credential_definition":{"vct":"B"},"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
			wantCode: ErrInvalidCredentialRequest, wantDesc: "differ"},
		{name: "definition not an object", body: `{"format":"vc+sd-jwt","credential_definition":"PDA1","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
			wantCode: ErrInvalidCredentialRequest, wantDesc: "credential_definition must be a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = jsonCT
			}
			got, err := ParseCredentialRequest([]byte(tc.body), ct, tc.maxProofs)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %+v\nwant %+v", got, tc.want)
				}
				return
			}
			pe := protocolError(t, err, tc.wantCode)
			if !strings.Contains(pe.Description, tc.wantDesc) {
				t.Fatalf("description %q does not contain %q", pe.Description, tc.wantDesc)
			}
			if strings.Contains(pe.Description, "secret-4821") {
				t.Fatalf("description echoes wallet text: %q", pe.Description)
			}
		})
	}
}

func TestParseDeferredCredentialRequest(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     string
		wantCode string
	}{
		{name: "valid", body: `{"transaction_id":"8xLOxBtZp8"}`, want: "8xLOxBtZp8"},
		{name: "unknown member ignored", body: `{"transaction_id":"t","x":1}`, want: "t"},
		{name: "missing", body: `{}`, wantCode: ErrInvalidCredentialRequest},
		{name: "empty", body: `{"transaction_id":""}`, wantCode: ErrInvalidCredentialRequest},
		{name: "number", body: `{"transaction_id":8}`, wantCode: ErrInvalidCredentialRequest},
		{name: "repeated", body: `{"transaction_id":"a","transaction_id":"b"}`, wantCode: ErrInvalidCredentialRequest},
		{name: "encryption", body: `{"transaction_id":"a","credential_response_encryption":{}}`, wantCode: ErrInvalidEncryptionParameters},
		{name: "not JSON", body: `transaction_id=a`, wantCode: ErrInvalidCredentialRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDeferredCredentialRequest([]byte(tc.body), "application/json")
			if tc.wantCode != "" {
				protocolError(t, err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.TransactionID != tc.want {
				t.Fatalf("transaction id = %q, want %q", got.TransactionID, tc.want)
			}
		})
	}
}
