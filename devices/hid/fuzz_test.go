package hid

import (
	"bytes"
	"testing"
)

// Reports come from devices: no input may panic the decoders, and their
// output must respect the length limits.

func FuzzKeyboardDecoder(f *testing.F) {
	f.Add([]byte{0, 0, 0x1e, 0, 0, 0, 0, 0, 0, 0, 0x28, 0, 0, 0, 0, 0}, "fr")
	f.Add([]byte{0x04, 0, 0x62, 0x04, 0, 0, 0, 0, 0, 0, 0x01, 0x01}, "de")
	f.Fuzz(func(t *testing.T, data []byte, layout string) {
		l, err := LookupLayout(layout)
		if err != nil {
			l, _ = LookupLayout("us")
		}
		d := NewDecoder(l)
		d.MaxScan = 16
		for len(data) > 0 {
			n := min(len(data), BootReportLen)
			scans, _ := d.Feed(data[:n])
			for _, s := range scans {
				if len([]rune(s)) > 16 || s == "" {
					t.Fatalf("scan %q breaks the limit or is empty", s)
				}
			}
			data = data[n:]
		}
	})
}

func FuzzPOSDecoder(f *testing.F) {
	for _, r := range EncodePOSReport(POSFormat{ReportID: 2}, "]Q1", 's', bytes.Repeat([]byte("7"), 70)) {
		f.Add(r, byte(2))
	}
	f.Add([]byte{3, 0, 0, 0, '1', '2', '3'}, byte(0))
	f.Fuzz(func(t *testing.T, report []byte, id byte) {
		d := POSDecoder{Format: POSFormat{ReportID: id}, MaxScan: 100}
		for i := 0; i < 3; i++ {
			b, ok, _ := d.Feed(report)
			if ok && (len(b.Data) == 0 || len(b.Data) > 100) {
				t.Fatalf("barcode of %d bytes", len(b.Data))
			}
		}
	})
}

func FuzzParseReportDescriptor(f *testing.F) {
	f.Add(bootKeyboardDesc)
	f.Add(posScannerDesc)
	f.Add([]byte{0xfe, 0x02, 0x00, 0x01, 0x02, 0xa4, 0xa4, 0xb4, 0xb4, 0xb4})
	f.Fuzz(func(t *testing.T, desc []byte) {
		_, _ = ParseReportDescriptor(desc)
	})
}
