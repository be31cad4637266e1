package escpos

import (
	"testing"

	"github.com/tillbridge/tillbridge/devices"
)

func reply(bs ...byte) StatusReply {
	var r StatusReply
	ns := []int{1, 2, 3, 4}
	for i, b := range bs {
		if b != 0 {
			r.Set(ns[i], b)
		}
	}
	return r
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		r       StatusReply
		summary string
		check   func(devices.PrinterStatus) bool
		wantErr bool
	}{
		{"all clear", reply(0x12, 0x12, 0, 0x12), "ok", func(s devices.PrinterStatus) bool { return s.Online && s.Ready() }, false},
		{"offline", reply(0x1a, 0x12, 0, 0x12), "offline", nil, false},
		{"drawer pin 3 high", reply(0x16, 0x12, 0, 0x12), "ok", func(s devices.PrinterStatus) bool { return s.DrawerOpen }, false},
		{"cover open", reply(0x1a, 0x16, 0, 0x12), "cover_open", func(s devices.PrinterStatus) bool { return s.CoverOpen }, false},
		{"paper end stop (n=2)", reply(0x1a, 0x32, 0, 0x12), "paper_end", nil, false},
		{"paper end sensor (n=4)", reply(0x1a, 0x12, 0, 0x72), "paper_end", func(s devices.PrinterStatus) bool { return s.PaperEnd && !s.PaperNearEnd }, false},
		{"paper near end only (bit 2)", reply(0x12, 0x12, 0, 0x16), "paper_near_end", func(s devices.PrinterStatus) bool { return s.Ready() }, false},
		{"paper near end only (bit 3)", reply(0x12, 0x12, 0, 0x1a), "paper_near_end", nil, false},
		{"near end and end", reply(0x1a, 0x32, 0, 0x7e), "paper_end", func(s devices.PrinterStatus) bool { return s.PaperNearEnd && s.PaperEnd }, false},
		{"cutter error", reply(0x1a, 0x52, 0x1a, 0x12), "cutter_error", func(s devices.PrinterStatus) bool { return s.CutterError }, false},
		{"unrecoverable error noted", reply(0x1a, 0x52, 0x32, 0x12), "offline", func(s devices.PrinterStatus) bool { return s.Detail == "unrecoverable error" }, false},
		{"feed button noted", reply(0x1a, 0x1a, 0, 0x12), "offline", func(s devices.PrinterStatus) bool { return s.Detail == "paper feed button pressed" }, false},
		{"missing paper reply noted but known", reply(0x12, 0x12), "ok", func(s devices.PrinterStatus) bool { return s.Detail == "paper sensor not read" }, false},
		{"no reply 1: unknown", reply(0, 0x12, 0, 0x12), "unknown", nil, true},
		{"nothing: unknown", StatusReply{}, "unknown", nil, true},
		{"malformed reply 1 (0x00): unknown", func() StatusReply { var r StatusReply; r.Set(1, 0); return r }(), "unknown", nil, true},
		{"malformed reply 1 (0xff): unknown", reply(0xff, 0x12, 0, 0x12), "unknown", nil, true},
		{"malformed reply 4 (ASB-like 0x80): unknown", reply(0x12, 0x12, 0, 0x92), "unknown", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := ParseStatus(tt.r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got := st.Summary(); got != tt.summary {
				t.Fatalf("Summary = %q, want %q (%+v)", got, tt.summary, st)
			}
			if tt.check != nil && !tt.check(st) {
				t.Fatalf("check failed on %+v", st)
			}
		})
	}
}

// TestEncodeStatusRoundTrip checks EncodeStatus against ParseStatus, and
// the simulated printer (which encodes on its own) against both.
func TestEncodeStatusRoundTrip(t *testing.T) {
	t.Parallel()
	states := []devices.PrinterStatus{
		{Online: true},
		{Online: false, CoverOpen: true},
		{Online: false, PaperEnd: true, PaperNearEnd: true},
		{Online: true, PaperNearEnd: true, DrawerOpen: true},
		{Online: false, CutterError: true},
	}
	for _, want := range states {
		var r StatusReply
		for n := 1; n <= 4; n++ {
			r.Set(n, EncodeStatus(n, want))
		}
		got, err := ParseStatus(r)
		if err != nil {
			t.Fatal(err)
		}
		want.Known = true
		got.Detail = ""
		if got != want {
			t.Errorf("round trip: got %+v, want %+v", got, want)
		}
	}
}

func TestValidStatusByte(t *testing.T) {
	t.Parallel()
	for b := 0; b < 256; b++ {
		want := b&0x01 == 0 && b&0x02 != 0 && b&0x10 != 0 && b&0x80 == 0
		if got := ValidStatusByte(byte(b)); got != want {
			t.Errorf("ValidStatusByte(%#x) = %v", b, got)
		}
	}
}
