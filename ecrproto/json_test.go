package ecrproto_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// wantErr checks that err is an *ecrproto.Error with code (and field).
func wantErr(t *testing.T, err error, code, field string) {
	t.Helper()
	var pe *ecrproto.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *Error %s", err, code)
	}
	if pe.Code != code || pe.Field != field {
		t.Fatalf("err = %s/%q (%s), want %s/%q", pe.Code, pe.Field, pe.Message, code, field)
	}
}

func TestDecodeJSON_Good(t *testing.T) {
	t.Parallel()
	in := `{"type":"SALE","id":"7","lane":"1","ref":"R1","amount":1250,"currency":"HKD",` +
		`"subject":"Zoo \"day\" ticket","barcode":"281234567890123400","future_key":{"x":[1,2]}}`
	m, err := ecrproto.DecodeJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "SALE" || m.ID != "7" || m.Lane != "1" || m.Ref != "R1" || *m.Amount != 1250 ||
		m.Currency != "HKD" || m.Subject != `Zoo "day" ticket` || m.Barcode != "281234567890123400" {
		t.Fatalf("decoded %+v", m)
	}
	m, err = ecrproto.DecodeJSON([]byte(`{"type":"RESULT","id":"7","status":"APPROVED","amount_cny":0}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.AmountCNY == nil || *m.AmountCNY != 0 {
		t.Fatalf("amount_cny 0 must be present, got %v", m.AmountCNY)
	}
}

func TestDecodeJSON_AbsentVersusZero(t *testing.T) {
	t.Parallel()
	for in, present := range map[string]bool{
		`{"type":"REFUND","id":"1"}`:                false,
		`{"type":"REFUND","id":"1","amount":null}`:  false,
		`{"type":"REFUND","id":"1","amount":0}`:     true,
		`{"type":"REFUND","id":"1","amount":  0  }`: true,
	} {
		m, err := ecrproto.DecodeJSON([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if (m.Amount != nil) != present {
			t.Errorf("%s: amount present = %v, want %v", in, m.Amount != nil, present)
		}
	}
}

func TestDecodeJSON_Bad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in    string
		code, field string
	}{
		{"garbage", `hello`, ecrproto.CodeFormat, ""},
		{"array", `[1,2]`, ecrproto.CodeFormat, ""},
		{"truncated", `{"type":"SALE"`, ecrproto.CodeFormat, ""},
		{"trailing", `{"type":"PING","id":"1"} {}`, ecrproto.CodeFormat, ""},
		{"bad utf8", "{\"type\":\"PING\",\"id\":\"\xff\"}", ecrproto.CodeFormat, ""},
		{"amount fraction", `{"amount":12.5}`, ecrproto.CodeField, "amount"},
		{"amount string", `{"amount":"1250"}`, ecrproto.CodeField, "amount"},
		{"amount exponent", `{"amount":1e3}`, ecrproto.CodeField, "amount"},
		{"amount negative", `{"amount":-5}`, ecrproto.CodeField, "amount"},
		{"amount huge", `{"amount":1234567890123456789012}`, ecrproto.CodeField, "amount"},
		{"amount bool", `{"amount":true}`, ecrproto.CodeField, "amount"},
		{"lane number", `{"lane":1}`, ecrproto.CodeField, "lane"},
		{"ref object", `{"ref":{}}`, ecrproto.CodeField, "ref"},
		{"duplicate", `{"id":"1","id":"2"}`, ecrproto.CodeField, "id"},
		{"control char", `{"subject":"a\u0002b"}`, ecrproto.CodeField, "subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ecrproto.DecodeJSON([]byte(tt.in))
			wantErr(t, err, tt.code, tt.field)
			if m == nil {
				t.Fatal("message must never be nil")
			}
		})
	}
}

func TestDecodeJSON_FieldErrorKeepsID(t *testing.T) {
	t.Parallel()
	m, err := ecrproto.DecodeJSON([]byte(`{"amount":12.5,"id":"42","lane":"3"}`))
	wantErr(t, err, ecrproto.CodeField, "amount")
	if m.ID != "42" || m.Lane != "3" {
		t.Fatalf("id/lane not kept: %+v", m)
	}
}

func TestAppendJSON_RoundTrip(t *testing.T) {
	t.Parallel()
	m := &ecrproto.Message{Type: "RESULT", ID: "9", Lane: "2", Ref: "R<&>", Amount: ecrproto.Int(0),
		Status: "APPROVED", Receipt: "line 1\nline 2\t\"q\"\\", AmountCNY: ecrproto.Int(1085)}
	b, err := ecrproto.AppendJSON(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"RESULT","id":"9","lane":"2","ref":"R<&>","amount":0,"status":"APPROVED",` +
		`"amount_cny":1085,"receipt":"line 1\nline 2\t\"q\"\\"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	back, err := ecrproto.DecodeJSON(b)
	if err != nil || back.Receipt != m.Receipt || *back.Amount != 0 {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	// encoding/json uses the same methods.
	var viaStd ecrproto.Message
	if err := json.Unmarshal(b, &viaStd); err != nil || viaStd.Ref != "R<&>" {
		t.Fatalf("json.Unmarshal: %+v %v", viaStd, err)
	}
}

func TestAppendJSON_RefusesUnencodable(t *testing.T) {
	t.Parallel()
	_, err := ecrproto.AppendJSON(nil, &ecrproto.Message{Type: "EVENT", Message: "a\x03b"})
	wantErr(t, err, ecrproto.CodeField, "message")
	_, err = ecrproto.AppendJSON(nil, &ecrproto.Message{Type: "SALE", Amount: ecrproto.Int(-1)})
	wantErr(t, err, ecrproto.CodeField, "amount")
}

func TestJSONReader(t *testing.T) {
	t.Parallel()
	big := `{"type":"PING","id":"` + strings.Repeat("x", 200) + `"}`
	in := "\r\n" + `{"type":"PING","id":"1"}` + "\r\n" + big + "\n" + `{"type":"PING","id":"2"}` + "\n" +
		"not json\n" + `{"type":"PING","id":"3"}`
	r := ecrproto.NewJSONReader(bufio.NewReaderSize(strings.NewReader(in), 16), 100)
	m, err := r.ReadMessage()
	if err != nil || m.ID != "1" {
		t.Fatalf("first: %+v %v", m, err)
	}
	_, err = r.ReadMessage()
	wantErr(t, err, ecrproto.CodeTooLarge, "")
	if m, err = r.ReadMessage(); err != nil || m.ID != "2" {
		t.Fatalf("after oversize: %+v %v", m, err)
	}
	_, err = r.ReadMessage()
	wantErr(t, err, ecrproto.CodeFormat, "")
	if _, err = r.ReadMessage(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("unterminated last line: %v", err)
	}
	if _, err = r.ReadMessage(); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
}

func TestJSONReader_ExactLimit(t *testing.T) {
	t.Parallel()
	line := `{"type":"PING","id":"` + strings.Repeat("x", 80) + `"}`
	r := ecrproto.NewJSONReader(bufio.NewReader(strings.NewReader(line+"\r\n"+line+"x\n")), len(line))
	if _, err := r.ReadMessage(); err != nil {
		t.Fatalf("a line of exactly the limit: %v", err)
	}
	_, err := r.ReadMessage()
	wantErr(t, err, ecrproto.CodeTooLarge, "")
}
