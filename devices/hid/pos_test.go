package hid

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// posReport64 is a 64-byte scanned data report as a HID-POS scanner sends
// it: ID 2, length 13, "]E0", an EAN-13, padding, vendor code 'd'.
func posReport64() []byte {
	r := make([]byte, 64)
	r[0], r[1] = 0x02, 13
	copy(r[2:], "]E0")
	copy(r[5:], "4006381333931")
	r[61] = 'd'
	return r
}

func TestParsePOSReport(t *testing.T) {
	r, ok, err := ParsePOSReport(posReport64(), POSFormat{ReportID: 2})
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if string(r.Data) != "4006381333931" || r.Symbology != "]E0" || r.Vendor != 'd' || r.More {
		t.Errorf("got %+v", r)
	}
	// Without report IDs: a short report, length byte then data.
	r, ok, err = ParsePOSReport(append([]byte{4, 0, 0, 0}, "1234"...), POSFormat{})
	if err != nil || !ok || string(r.Data) != "1234" || r.Symbology != "" {
		t.Errorf("no-ID report: %+v ok=%v err=%v", r, ok, err)
	}
}

func TestParsePOSReportRejects(t *testing.T) {
	f := POSFormat{ReportID: 2}
	if _, ok, err := ParsePOSReport([]byte{0x04, 1, 2, 3, 4, 5}, f); ok || err != nil {
		t.Errorf("other report ID: ok=%v err=%v, want skipped", ok, err)
	}
	if _, _, err := ParsePOSReport([]byte{2, 1, 0}, f); !errors.Is(err, ErrShortReport) {
		t.Errorf("3-byte report: %v", err)
	}
	bad := posReport64()
	bad[1] = 60 // more than the 56-byte data field
	if _, _, err := ParsePOSReport(bad, f); !errors.Is(err, ErrBadReport) {
		t.Errorf("length 60: %v", err)
	}
	if _, _, err := ParsePOSReport([]byte{2, 9, ']', 'E', '0', '1'}, f); !errors.Is(err, ErrBadReport) {
		t.Errorf("length past the end: %v", err)
	}
}

func TestPOSDecoderContinuation(t *testing.T) {
	qr := []byte("https://qr.alipay.com/" + strings.Repeat("x", 100)) // 122 bytes: 3 reports
	f := POSFormat{ReportID: 2}
	reps := EncodePOSReport(f, "]Q1", 's', qr)
	if len(reps) != 3 {
		t.Fatalf("%d reports, want 3", len(reps))
	}
	d := POSDecoder{Format: f}
	for i, r := range reps {
		if len(r) != 64 {
			t.Errorf("report %d is %d bytes, want 64", i, len(r))
		}
		b, ok, err := d.Feed(r)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (i == len(reps)-1) {
			t.Fatalf("report %d: ok=%v", i, ok)
		}
		if ok && (!bytes.Equal(b.Data, qr) || b.Symbology != "]Q1") {
			t.Errorf("got %q %q", b.Symbology, b.Data)
		}
	}
	// Zero-length and foreign reports between scans change nothing.
	for _, r := range [][]byte{{}, {0x05, 0, 0}} {
		if _, ok, err := d.Feed(r); ok || err != nil {
			t.Errorf("Feed(% x): ok=%v err=%v", r, ok, err)
		}
	}
}

func TestPOSDecoderTooLong(t *testing.T) {
	f := POSFormat{}
	d := POSDecoder{Format: f, MaxScan: 60}
	reps := EncodePOSReport(f, "", 0, bytes.Repeat([]byte("9"), 100))
	var err error
	for _, r := range reps {
		_, _, err = d.Feed(r)
	}
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("err=%v, want scan_too_long", err)
	}
	b, ok, err := d.Feed(EncodePOSReport(f, "", 0, []byte("12"))[0])
	if err != nil || !ok || string(b.Data) != "12" {
		t.Errorf("after overflow: %q ok=%v err=%v", b.Data, ok, err)
	}
}

// bootKeyboardDesc is the HID 1.11 appendix B.1 boot keyboard descriptor.
var bootKeyboardDesc = []byte{
	0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
	0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x03, 0x95, 0x05, 0x75, 0x01,
	0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x03, 0x95, 0x06,
	0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
}

// posScannerDesc is a HID-POS scanner with a status report (ID 1) and the
// scanned data report (ID 2) in the layout ParsePOSReport reads.
var posScannerDesc = []byte{
	0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01, // Bar Code Scanner page, application
	0x85, 0x01, 0x06, 0x00, 0xff, 0x09, 0x01, 0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08, 0x95, 0x01, 0x81, 0x02, // ID 1: vendor byte
	0x85, 0x02, 0x05, 0x8c, 0x09, 0x12, 0xa1, 0x02, // ID 2: Scanned Data Report
	0x06, 0x00, 0xff, 0x09, 0x01, 0x81, 0x02, // length
	0x05, 0x8c, 0x09, 0xfb, 0x09, 0xfc, 0x09, 0xfd, 0x95, 0x03, 0x81, 0x02, // symbology
	0x09, 0xfe, 0x95, 0x38, 0x82, 0x02, 0x01, // decoded data, 56 buffered bytes
	0xc0, 0xc0,
}

func TestParseReportDescriptor(t *testing.T) {
	cases := []struct {
		name string
		desc []byte
		want ReportInfo
	}{
		{"boot keyboard", bootKeyboardDesc, ReportInfo{Keyboard: true}},
		{"hid-pos", posScannerDesc, ReportInfo{BarcodeScanner: true, UsesReportIDs: true, ScannedData: true, ScannedDataReportID: 2}},
		{"no report ids", []byte{0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01, 0x09, 0xfe, 0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08, 0x95, 0x40, 0x81, 0x02, 0xc0},
			ReportInfo{BarcodeScanner: true, ScannedData: true}},
		{"32-bit usage, push/pop", []byte{0xa4, 0x85, 0x07, 0xb4, 0x0b, 0xfe, 0x00, 0x8c, 0x00, 0x81, 0x02},
			ReportInfo{UsesReportIDs: true, ScannedData: true}},
	}
	for _, c := range cases {
		got, err := ParseReportDescriptor(c.desc)
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	if f := cases[1].want.POSFormat(); f.ReportID != 2 {
		t.Errorf("POSFormat() = %+v", f)
	}
	if _, err := ParseReportDescriptor([]byte{0x05, 0x01, 0x26, 0xff}); !errors.Is(err, ErrBadDescriptor) {
		t.Errorf("truncated: %v", err)
	}
}
