package wallet_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/jwtvc"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/mdoc"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

func mdlDefinition() definition.Definition {
	return definition.Definition{ID: "def-mdl", Spec: definition.Spec{Label: "mDL", CredentialFormat: definition.FormatMdoc,
		DocType: "org.iso.18013.5.1.mDL", ExpirationInDays: 30, SupportRevocation: true,
		Claims: []definition.Claim{
			{Path: []any{"org.iso.18013.5.1", "given_name"}, Mandatory: true},
			{Path: []any{"org.iso.18013.5.1", "birth_date"}, ValueType: definition.ValueTypeFullDate},
			{Path: []any{"org.iso.18013.5.1", "portrait"}, ValueType: definition.ValueTypeBytes},
		}, Display: []definition.Display{{Name: "Mobile driving licence"}}}}
}

func employeeDefinition() definition.Definition {
	return definition.Definition{ID: "def-emp", Spec: definition.Spec{Label: "Employee ID", CredentialFormat: definition.FormatJWTVC,
		Type: []string{"VerifiableCredential", "EmployeeID"}, ExpirationInDays: 30, SupportRevocation: true,
		Claims:  []definition.Claim{{Path: []any{"given_name"}, Mandatory: true}, {Path: []any{"address", "locality"}}},
		Display: []definition.Display{{Name: "Employee ID"}}}}
}

func mdlSubject() map[string]any {
	return map[string]any{"org.iso.18013.5.1": map[string]any{"given_name": "Erika", "family_name": "Mustermann",
		"birth_date": "1964-08-12", "portrait": "_9j_4A", "age_over_18": true}}
}

func employeeSubject() map[string]any {
	return map[string]any{"given_name": "Erika", "address": map[string]any{"locality": "Koeln"}}
}

// formatFixture is the wallet fixture with def as the offered definition and a status allocator (every
// definition here supports revocation).
func formatFixture(t *testing.T, def definition.Definition) (*walletFixture, *pickupAllocator) {
	t.Helper()
	f := newWalletFixture(t, wallet.Config{})
	alloc := &pickupAllocator{}
	svc, err := wallet.New(wallet.Config{IssuerURL: walletIssuer}, wallet.Deps{Store: f.store, Signer: f.signer,
		StatusAllocator: alloc}, exchange.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	f.svc, f.def = svc, def
	f.store.define(def)
	return f, alloc
}

// offerOf seeds an exchange of the fixture's definition as the admin API would (types and revocation included).
func (f *walletFixture) offerOf(mode exchange.IssuanceMode, subjects ...map[string]any) (string, exchange.Record) {
	f.t.Helper()
	offerID, rec := f.offer(mode, "", subjects...)
	next := rec.Clone()
	next.CredentialFormat = f.def.CredentialFormat
	next.SupportRevocation = f.def.SupportRevocation
	next.RevocationStatus = exchange.RevocationOperational
	next.CredentialType = f.def.Types()
	next.SetCredentials(rec.Credentials)
	if err := f.store.UpdateExchange(context.Background(), next, exchange.Expect{Version: rec.Version, Status: rec.Status}); err != nil {
		f.t.Fatal(err)
	}
	return offerID, f.store.record(rec.CredentialExchangeID)
}

// verifyMdoc checks an issued mdoc with the issuer's key: its x5chain certificate must hold the signing key, and
// the document verifies against it; the device key is the holder's.
func (f *walletFixture) verifyMdoc(cred string, h holder) *mdoc.Verified {
	f.t.Helper()
	b, err := mdoc.DecodeCredential(cred)
	if err != nil {
		f.t.Fatal(err)
	}
	chain, err := mdoc.Certificates(b)
	if err != nil {
		f.t.Fatal(err)
	}
	cert := chain[0]
	var issuerKey ecdsa.PublicKey
	if err := f.signer.PublicJWK().Raw(&issuerKey); err != nil || !issuerKey.Equal(cert.PublicKey) {
		f.t.Fatalf("the document signer certificate does not hold the issuer's signing key")
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	v, err := mdoc.Verify(b, mdoc.VerifyOptions{Roots: roots, Now: f.clock.Now(), DocType: f.def.DocType})
	if err != nil {
		f.t.Fatal(err)
	}
	var hk ecdsa.PublicKey
	if err := h.pub.Raw(&hk); err != nil || !hk.Equal(v.DeviceKey) {
		f.t.Errorf("device key is not the holder's")
	}
	return v
}

func (f *walletFixture) verifyJWTVC(cred string, h holder) *jwtvc.Verified {
	f.t.Helper()
	v, err := jwtvc.Verify(cred, keys.PublicJWKS(f.signer), f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	if !jwk.Equal(v.HolderKey, h.pub) {
		f.t.Errorf("cnf.jwk is not the holder's key")
	}
	return v
}

// TestIssueMdoc: a batch request for an mdoc configuration gets one mdoc per proof key, each bound to its key as
// the device key, its elements typed as the definition says, with its own status list entry; the record says
// mso_mdoc and holds the credentials.
func TestIssueMdoc(t *testing.T) {
	f, alloc := formatFixture(t, mdlDefinition())
	offerID, rec := f.offerOf(exchange.ModeInTime, mdlSubject())
	tok := f.mustToken(offerID, "")
	h1, h2 := newHolder(t), newHolder(t)
	nonce := f.nonce()
	ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
		credentialRequest(t, f.def.ID, h1.proof(t, nonce, "", f.clock.Now()), h2.proof(t, nonce, "", f.clock.Now())))
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Issuance.Credentials) != 2 || ans.Issuance.Format != "mso_mdoc" {
		t.Fatalf("issuance %+v", ans.Issuance)
	}
	for i, h := range []holder{h1, h2} {
		v := f.verifyMdoc(ans.Issuance.Credentials[i], h)
		mdl := v.NameSpaces["org.iso.18013.5.1"]
		if mdl["given_name"] != "Erika" || mdl["age_over_18"] != true ||
			!reflect.DeepEqual(mdl["birth_date"], cbor.Tag{Number: 1004, Content: "1964-08-12"}) ||
			!reflect.DeepEqual(mdl["portrait"], []byte{0xff, 0xd8, 0xff, 0xe0}) {
			t.Errorf("credential %d elements = %#v", i, mdl)
		}
		if v.Status == nil || v.Status.Index != int64(i+1) || v.Status.URI != walletIssuer+"/status-lists/1" {
			t.Errorf("credential %d status = %+v", i, v.Status)
		}
		if want := f.clock.Now().AddDate(0, 0, 30); !v.ValidUntil.Equal(want) {
			t.Errorf("validUntil %v, want %v", v.ValidUntil, want)
		}
	}
	if alloc.n.Load() != 2 {
		t.Errorf("status entries = %d, want one per credential", alloc.n.Load())
	}
	got := f.store.record(rec.CredentialExchangeID)
	if got.Status != exchange.StatusCredentialIssued || got.CredentialFormat != "mso_mdoc" ||
		!slices.Equal(splitCredentials(got.CredentialToken), ans.Issuance.Credentials) {
		t.Errorf("record status %s format %s", got.Status, got.CredentialFormat)
	}
	el := got.DisclosureMapping["org.iso.18013.5.1"].(map[string]any)["family_name"].(map[string]any)
	if el["limitedDisclosure"] != true {
		t.Errorf("disclosureMapping = %v", got.DisclosureMapping)
	}
}

// TestIssueJWTVC: the same for a jwt_vc_json configuration: VC Data Model 1.1 JWTs of the definition's types,
// bound to each proof key, with credentialStatus.
func TestIssueJWTVC(t *testing.T) {
	f, _ := formatFixture(t, employeeDefinition())
	offerID, rec := f.offerOf(exchange.ModeInTime, employeeSubject())
	tok := f.mustToken(offerID, "")
	h := newHolder(t)
	ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
		credentialRequest(t, f.def.ID, h.proof(t, f.nonce(), "", f.clock.Now())))
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Issuance.Credentials) != 1 || ans.Issuance.Format != "jwt_vc_json" {
		t.Fatalf("issuance %+v", ans.Issuance)
	}
	v := f.verifyJWTVC(ans.Issuance.Credentials[0], h)
	if !slices.Equal(v.Types, []string{"VerifiableCredential", "EmployeeID"}) || v.Subject["given_name"] != "Erika" ||
		v.Claims["iss"] != walletIssuer || v.Status == nil {
		t.Errorf("types %v subject %v iss %v status %v", v.Types, v.Subject, v.Claims["iss"], v.Status)
	}
	got := f.store.record(rec.CredentialExchangeID)
	if got.CredentialFormat != "jwt_vc_json" || got.CredentialToken != ans.Issuance.Credentials[0] ||
		!slices.Equal(got.CredentialType, []string{"VerifiableCredential", "EmployeeID"}) {
		t.Errorf("record format %s type %v", got.CredentialFormat, got.CredentialType)
	}
}

// TestDraftRequestsByFormat: draft-13 wallets name an mdoc by format and doctype, a JWT VC by format and
// credential_definition.type; anything else of the offer is unknown_credential_configuration, and an mdoc or
// JWT VC configuration has no vc+sd-jwt twin.
func TestDraftRequestsByFormat(t *testing.T) {
	for _, tc := range []struct {
		def      definition.Definition
		subject  map[string]any
		good     map[string]any
		wrong    []map[string]any
		wantForm string
	}{
		{mdlDefinition(), mdlSubject(), map[string]any{"format": "mso_mdoc", "doctype": "org.iso.18013.5.1.mDL"},
			[]map[string]any{{"format": "mso_mdoc", "doctype": "eu.europa.ec.eudi.pid.1"}, {"format": "dc+sd-jwt", "vct": "org.iso.18013.5.1.mDL"},
				{"format": "jwt_vc_json", "credential_definition": map[string]any{"type": []any{"VerifiableCredential"}}},
				{"credential_configuration_id": "def-mdl" + oid4vci.LegacyConfigurationSuffix}}, "mso_mdoc"},
		{employeeDefinition(), employeeSubject(), map[string]any{"format": "jwt_vc_json",
			"credential_definition": map[string]any{"type": []any{"EmployeeID", "VerifiableCredential"}}},
			[]map[string]any{{"format": "jwt_vc_json", "credential_definition": map[string]any{"type": []any{"VerifiableCredential"}}},
				{"format": "mso_mdoc", "doctype": "EmployeeID"}, {"credential_configuration_id": "def-emp" + oid4vci.LegacyConfigurationSuffix}}, "jwt_vc_json"},
	} {
		t.Run(tc.def.CredentialFormat, func(t *testing.T) {
			f, _ := formatFixture(t, tc.def)
			offerID, _ := f.offerOf(exchange.ModeInTime, tc.subject)
			tok := f.mustToken(offerID, "")
			h := newHolder(t)
			for _, wrong := range tc.wrong {
				body := map[string]any{"proof": map[string]any{"proof_type": "jwt", "jwt": h.proof(t, f.nonce(), "", f.clock.Now())}}
				if _, ok := wrong["credential_configuration_id"]; ok {
					body = map[string]any{"proofs": map[string]any{"jwt": []string{h.proof(t, f.nonce(), "", f.clock.Now())}}}
				}
				for k, v := range wrong {
					body[k] = v
				}
				b, _ := json.Marshal(body)
				_, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken), parseCredentialRequest(t, b))
				if oauthCode(err) != oid4vci.ErrUnknownCredentialConfiguration {
					t.Errorf("%v: err = %v, want unknown_credential_configuration", wrong, err)
				}
			}
			body := map[string]any{"proof": map[string]any{"proof_type": "jwt", "jwt": h.proof(t, f.nonce(), "", f.clock.Now())}}
			for k, v := range tc.good {
				body[k] = v
			}
			b, _ := json.Marshal(body)
			req := parseCredentialRequest(t, b)
			ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken), req)
			if err != nil {
				t.Fatal(err)
			}
			if ans.Dialect != oid4vci.DialectDraft13 || ans.Issuance.Format != tc.wantForm || len(ans.Issuance.Credentials) != 1 {
				t.Fatalf("answer %+v", ans)
			}
			code, resp, err := oid4vci.BuildCredentialResponse(ans.Dialect, ans.Shape, ans.Issuance)
			if err != nil || code != 200 {
				t.Fatal(err)
			}
			draft := resp.(*oid4vci.CredentialResponseDraft)
			if draft.Credential != ans.Issuance.Credentials[0] || draft.Format != tc.wantForm {
				t.Errorf("draft response %+v", draft)
			}
		})
	}
}

// TestDeferredAndRetriedFormats: a Deferred exchange of each format answers transaction_id, then, completed by
// the organisation, the deferred endpoint issues the credential in that format bound to the key of the original
// request; a credential request whose answer was lost is answered again with the same credential.
func TestDeferredAndRetriedFormats(t *testing.T) {
	for _, tc := range []struct {
		def     definition.Definition
		subject map[string]any
	}{{mdlDefinition(), mdlSubject()}, {employeeDefinition(), employeeSubject()}} {
		t.Run(tc.def.CredentialFormat, func(t *testing.T) {
			f, alloc := formatFixture(t, tc.def)
			verify := func(cred string, h holder) {
				if tc.def.CredentialFormat == definition.FormatMdoc {
					f.verifyMdoc(cred, h)
				} else {
					f.verifyJWTVC(cred, h)
				}
			}
			// Deferred.
			offerID, rec := f.offerOf(exchange.ModeDeferred)
			tok := f.mustToken(offerID, "")
			h := newHolder(t)
			ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
				credentialRequest(t, f.def.ID, h.proof(t, f.nonce(), "", f.clock.Now())))
			if err != nil || ans.Issuance.TransactionID == "" {
				t.Fatalf("deferral: %+v %v", ans, err)
			}
			f.complete(rec.CredentialExchangeID, false, tc.subject)
			picked, err := f.svc.RequestDeferredCredential(context.Background(), wallet.Bearer(tok.AccessToken),
				&oid4vci.DeferredCredentialRequest{TransactionID: ans.Issuance.TransactionID})
			if err != nil {
				t.Fatal(err)
			}
			if picked.Issuance.Format != tc.def.CredentialFormat || len(picked.Issuance.Credentials) != 1 {
				t.Fatalf("pick-up %+v", picked.Issuance)
			}
			verify(picked.Issuance.Credentials[0], h)
			if got := f.store.record(rec.CredentialExchangeID); got.Status != exchange.StatusCredentialAcked {
				t.Errorf("status %s", got.Status)
			}
			// A lost credential answer, retried with the same key.
			offerID, _ = f.offerOf(exchange.ModeInTime, tc.subject)
			tok = f.mustToken(offerID, "")
			first, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
				credentialRequest(t, f.def.ID, h.proof(t, f.nonce(), "", f.clock.Now())))
			if err != nil {
				t.Fatal(err)
			}
			entries := alloc.n.Load()
			f.clock.Advance(time.Second)
			again, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
				credentialRequest(t, f.def.ID, h.proof(t, f.nonce(), "", f.clock.Now())))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again.Issuance.Credentials, first.Issuance.Credentials) || alloc.n.Load() != entries {
				t.Errorf("the retry got new credentials or status entries")
			}
		})
	}
}

// TestMetadataOfEveryFormat: each definition is its configuration with its format's parameters.
func TestMetadataOfEveryFormat(t *testing.T) {
	f, _ := formatFixture(t, mdlDefinition())
	f.store.define(employeeDefinition())
	md, err := f.svc.IssuerMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfgs := md.CredentialConfigurationsSupported
	if m := cfgs["def-mdl"]; m.Format != "mso_mdoc" || m.DocType != "org.iso.18013.5.1.mDL" || m.Scope != "def-mdl" ||
		!reflect.DeepEqual(m.CredentialSigningAlgValuesSupported, []any{-7}) {
		t.Errorf("mdoc configuration %+v", m)
	}
	if e := cfgs["def-emp"]; e.Format != "jwt_vc_json" || e.CredentialDefinition == nil ||
		!slices.Equal(e.CredentialDefinition.Type, []string{"VerifiableCredential", "EmployeeID"}) {
		t.Errorf("jwt vc configuration %+v", e)
	}
	if _, twin := cfgs["def-mdl"+oid4vci.LegacyConfigurationSuffix]; twin {
		t.Error("an mdoc configuration got a vc+sd-jwt twin")
	}
	if p := cfgs["def-pda1"]; p.Format != "dc+sd-jwt" || p.VCT != "PortableDocumentA1" {
		t.Errorf("sd-jwt configuration %+v", p)
	}
}
