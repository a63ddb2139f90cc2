package oid4vci

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestTxCodeFromPIN(t *testing.T) {
	tests := []struct {
		name string
		pin  string
		desc string
		want *TxCode
	}{
		{name: "no pin", pin: "", want: nil},
		{name: "digits", pin: "4821", want: &TxCode{InputMode: InputModeNumeric, Length: 4}},
		{name: "letters", pin: "ab12", desc: "sent by SMS", want: &TxCode{InputMode: InputModeText, Length: 4, Description: "sent by SMS"}},
		{name: "non-ASCII digits are text", pin: "٤٨٢١", want: &TxCode{InputMode: InputModeText, Length: 4}},
		{name: "long description cut", pin: "1", desc: strings.Repeat("d", 400), want: &TxCode{InputMode: InputModeNumeric, Length: 1, Description: strings.Repeat("d", 300)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := TxCodeFromPIN(tc.pin, tc.desc)
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNewPreAuthorizedOfferJSON(t *testing.T) {
	tests := []struct {
		name    string
		ids     []string
		code    string
		tx      *TxCode
		want    string
		wantErr bool
	}{
		{name: "with tx_code", ids: []string{"pda1"}, code: "oaKazRN8I0IbtZ0C7JuMn5", tx: TxCodeFromPIN("4821", ""),
			want: `{"credential_issuer":"https://issuer.example.com","credential_configuration_ids":["pda1"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"oaKazRN8I0IbtZ0C7JuMn5","tx_code":{"input_mode":"numeric","length":4}}}}`},
		{name: "without tx_code", ids: []string{"pda1", "pda1" + LegacyConfigurationSuffix}, code: "c",
			want: `{"credential_issuer":"https://issuer.example.com","credential_configuration_ids":["pda1","pda1_vc_sd_jwt"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c"}}}`},
		{name: "no ids", code: "c", wantErr: true},
		{name: "repeated id", ids: []string{"a", "a"}, code: "c", wantErr: true},
		{name: "no code", ids: []string{"a"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			offer, err := NewPreAuthorizedOffer(testIssuer, tc.ids, tc.code, tc.tx)
			if tc.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(offer)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}

func TestOfferURI(t *testing.T) {
	const offerURL = "https://issuer.example.com/credential-offer/GkurKxf5T0Y"
	tests := []struct {
		scheme, url string
		want        string
		wantErr     bool
	}{
		{scheme: "", url: offerURL, want: "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example.com%2Fcredential-offer%2FGkurKxf5T0Y"},
		{scheme: "openid-credential-offer://", url: offerURL, want: "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example.com%2Fcredential-offer%2FGkurKxf5T0Y"},
		{scheme: "haip://", url: offerURL, want: "haip://?credential_offer_uri=https%3A%2F%2Fissuer.example.com%2Fcredential-offer%2FGkurKxf5T0Y"},
		{scheme: "HAIP:", url: "http://127.0.0.1:3000/credential-offer/x?y=1", want: "haip://?credential_offer_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcredential-offer%2Fx%3Fy%3D1"},
		{scheme: "https://", url: offerURL, wantErr: true},
		{scheme: "", url: "/credential-offer/x", wantErr: true},
		{scheme: "", url: "ftp://issuer.example.com/x", wantErr: true},
		{scheme: "", url: offerURL + "#frag", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.scheme+" "+tc.url, func(t *testing.T) {
			got, err := OfferURI(tc.scheme, tc.url)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want an error, got %s", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v\nwant %q", got, err, tc.want)
			}
			u, err := url.Parse(got)
			if err != nil || u.Query().Get("credential_offer_uri") != tc.url {
				t.Fatalf("offer URI does not round-trip: %v", err)
			}
		})
	}
}

func TestConfigurationIDs(t *testing.T) {
	tests := []struct {
		id         string
		wantBase   string
		wantFormat string
	}{
		{id: "pda1", wantBase: "pda1", wantFormat: FormatSDJWTVC},
		{id: "pda1" + LegacyConfigurationSuffix, wantBase: "pda1", wantFormat: FormatLegacySDJWTVC},
		{id: LegacyConfigurationSuffix, wantBase: LegacyConfigurationSuffix, wantFormat: FormatSDJWTVC},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			base, format := SplitConfigurationID(tc.id)
			if base != tc.wantBase || format != tc.wantFormat {
				t.Fatalf("got %s %s, want %s %s", base, format, tc.wantBase, tc.wantFormat)
			}
		})
	}
	if got := OfferedConfigurationIDs("d", false); len(got) != 1 || got[0] != "d" {
		t.Fatalf("offered ids = %v", got)
	}
	if got := OfferedConfigurationIDs("d", true); len(got) != 2 || got[1] != "d"+LegacyConfigurationSuffix {
		t.Fatalf("offered ids with legacy = %v", got)
	}
}
