package ecrproto_test

import (
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/ecrproto"
)

func sale() *ecrproto.Message {
	return &ecrproto.Message{Type: "SALE", ID: "1", Lane: "1", Ref: "R1", Amount: ecrproto.Int(1250), Currency: "HKD"}
}

func TestValidate_Good(t *testing.T) {
	t.Parallel()
	good := []*ecrproto.Message{
		sale(),
		{Type: "HELLO", ID: "1", Version: "1"},
		{Type: "HELLO", ID: "1", Key: "s3cret"},
		{Type: "STATUS", ID: "1", Lane: "1"},
		{Type: "STATUS", ID: "1", Lane: "1", Ref: "R1"},
		{Type: "CANCEL", ID: "1", Lane: "1", Ref: "R1"},
		{Type: "REFUND", ID: "1", Lane: "1", Ref: "R1", RefundRef: "F1", Amount: ecrproto.Int(1), Currency: "HKD"},
		{Type: "SCAN", ID: "1", Lane: "1", Barcode: "281234567890123400"},
		{Type: "ABORT", ID: "1", Lane: "1"},
		{Type: "PRINT", ID: "1", Lane: "1", Receipt: "hello\nworld"},
		{Type: "PRINT", ID: "1", Lane: "1", Ref: "R1"},
		{Type: "DEVICES", ID: "1"},
		{Type: "PING", ID: "1"},
		{Type: "EVENT", ID: "1", Event: "WAIT_SCAN"},
		{Type: "RESULT", ID: "1", Status: "APPROVED", AlipayTransID: "2026"},
		{Type: "ERROR", Code: "E_FORMAT"},
	}
	for _, m := range good {
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", m.Type, err)
		}
	}
}

func TestValidate_Bad(t *testing.T) {
	t.Parallel()
	with := func(f func(m *ecrproto.Message)) *ecrproto.Message { m := sale(); f(m); return m }
	tests := []struct {
		name        string
		m           *ecrproto.Message
		code, field string
	}{
		{"no type", &ecrproto.Message{ID: "1"}, ecrproto.CodeField, "type"},
		{"unknown type", &ecrproto.Message{Type: "PAY", ID: "1"}, ecrproto.CodeType, ""},
		{"lowercase type", &ecrproto.Message{Type: "sale", ID: "1"}, ecrproto.CodeType, ""},
		{"no id", with(func(m *ecrproto.Message) { m.ID = "" }), ecrproto.CodeField, "id"},
		{"long id", with(func(m *ecrproto.Message) { m.ID = strings.Repeat("1", 65) }), ecrproto.CodeField, "id"},
		{"no lane", with(func(m *ecrproto.Message) { m.Lane = "" }), ecrproto.CodeField, "lane"},
		{"lane with space", with(func(m *ecrproto.Message) { m.Lane = "lane 1" }), ecrproto.CodeField, "lane"},
		{"no ref", with(func(m *ecrproto.Message) { m.Ref = "" }), ecrproto.CodeField, "ref"},
		{"non-ascii ref", with(func(m *ecrproto.Message) { m.Ref = "R€" }), ecrproto.CodeField, "ref"},
		{"no amount", with(func(m *ecrproto.Message) { m.Amount = nil }), ecrproto.CodeField, "amount"},
		{"zero amount", with(func(m *ecrproto.Message) { m.Amount = ecrproto.Int(0) }), ecrproto.CodeField, "amount"},
		{"negative amount", with(func(m *ecrproto.Message) { m.Amount = ecrproto.Int(-1) }), ecrproto.CodeField, "amount"},
		{"huge amount", with(func(m *ecrproto.Message) { m.Amount = ecrproto.Int(ecrproto.MaxAmount + 1) }), ecrproto.CodeField, "amount"},
		{"no currency", with(func(m *ecrproto.Message) { m.Currency = "" }), ecrproto.CodeField, "currency"},
		{"bad currency", with(func(m *ecrproto.Message) { m.Currency = "hkd" }), ecrproto.CodeField, "currency"},
		{"long subject", with(func(m *ecrproto.Message) { m.Subject = strings.Repeat("s", 257) }), ecrproto.CodeField, "subject"},
		{"barcode space", with(func(m *ecrproto.Message) { m.Barcode = "28 12" }), ecrproto.CodeField, "barcode"},
		{"control in subject", with(func(m *ecrproto.Message) { m.Subject = "a\x1cb" }), ecrproto.CodeField, "subject"},
		{"cancel no ref", &ecrproto.Message{Type: "CANCEL", ID: "1", Lane: "1"}, ecrproto.CodeField, "ref"},
		{"refund no refund_ref", &ecrproto.Message{Type: "REFUND", ID: "1", Lane: "1", Ref: "R", Amount: ecrproto.Int(1), Currency: "HKD"}, ecrproto.CodeField, "refund_ref"},
		{"refund no amount", &ecrproto.Message{Type: "REFUND", ID: "1", Lane: "1", Ref: "R", RefundRef: "F", Currency: "HKD"}, ecrproto.CodeField, "amount"},
		{"scan no barcode", &ecrproto.Message{Type: "SCAN", ID: "1", Lane: "1"}, ecrproto.CodeField, "barcode"},
		{"print no lane", &ecrproto.Message{Type: "PRINT", ID: "1", Receipt: "x"}, ecrproto.CodeField, "lane"},
		{"status no lane", &ecrproto.Message{Type: "STATUS", ID: "1"}, ecrproto.CodeField, "lane"},
		{"event no event", &ecrproto.Message{Type: "EVENT", ID: "1"}, ecrproto.CodeField, "event"},
		{"result bad status", &ecrproto.Message{Type: "RESULT", ID: "1", Status: "PAID"}, ecrproto.CodeField, "status"},
		{"error no code", &ecrproto.Message{Type: "ERROR"}, ecrproto.CodeField, "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.m.Validate(), tt.code, tt.field)
		})
	}
}

func TestMessage_LogValueRedacts(t *testing.T) {
	t.Parallel()
	m := &ecrproto.Message{Type: "HELLO", Key: "topsecret", Barcode: "281234567890123400"}
	s := m.LogValue().String()
	if strings.Contains(s, "topsecret") || strings.Contains(s, "2812345678901") || !strings.Contains(s, "3400") {
		t.Fatalf("log value leaks or loses too much: %s", s)
	}
}

func TestValidLaneMatchesValidate(t *testing.T) {
	t.Parallel()
	for _, lane := range []string{"1", "lane-2", "Kasse_3", "a=b", strings.Repeat("x", 32),
		"", "Lane 1", "l\tx", "caf\u00e9", "x\x7f", strings.Repeat("x", 33)} {
		m := &ecrproto.Message{Type: ecrproto.TypeStatus, ID: "q1", Lane: lane}
		valid := m.Validate() == nil
		if got := ecrproto.ValidLane(lane); got != valid {
			t.Errorf("ValidLane(%q) = %v, Validate accepts it: %v", lane, got, valid)
		}
	}
	if !ecrproto.ValidLane("1") || ecrproto.ValidLane("Lane 1") {
		t.Fatal("ValidLane: the basic cases")
	}
}
