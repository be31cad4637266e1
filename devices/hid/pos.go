package hid

import (
	"fmt"
)

// Bar Code Scanner page (0x8C) usages this package knows (HID Point of
// Sale Usage Tables 1.02).
const (
	UsagePageBarcodeScanner = 0x8c
	UsageBarcodeScanner     = 0x02 // application collection
	UsageScannedDataReport  = 0x12 // logical collection
	UsageSymbologyID1       = 0xfb
	UsageSymbologyID2       = 0xfc
	UsageSymbologyID3       = 0xfd
	UsageDecodedData        = 0xfe
	UsageDecodeDataContinue = 0xff
)

// Field offsets of the scanned data report, counted after the report ID
// byte (when the device uses report IDs).
const (
	posLenOff      = 0  // number of valid bytes in the data field
	posSymOff      = 1  // three symbology identifier bytes (AIM id, e.g. "]E0")
	posDataOff     = 4  // decoded data
	POSDataMax     = 56 // size of the decoded data field
	posVendorOff   = 60 // vendor symbology code
	posFlagsOff    = 62 // bit 0: decode data continued
	posFullLen     = 63
	posMinLen      = posDataOff
	posContinueBit = 0x01
)

// DefaultPOSReportID is the report ID of the scanned data report on
// scanners whose report descriptor cannot be read.
const DefaultPOSReportID = 0x02

// POSFormat says how a scanner frames its scanned data reports.
type POSFormat struct {
	// ReportID is the scanned data report's ID, sent as the first byte of
	// the report. 0 means the device uses no report IDs (no ID byte).
	ReportID byte
}

// POSReport is one parsed scanned data report.
type POSReport struct {
	// Symbology is the AIM symbology identifier ("]E0" for EAN-13, "]Q1"
	// for QR), empty when the scanner sends zeros.
	Symbology string
	// Vendor is the vendor's own symbology code (0 when absent).
	Vendor byte
	// Data is the decoded data in this report.
	Data []byte
	// More is set when the barcode continues in the next report.
	More bool
}

// ParsePOSReport parses one HID-POS scanned data report. The layout
// supported, after the report ID byte when f.ReportID is not 0, is the one
// HID-POS scanners (Honeywell, Zebra, Datalogic in "HID POS" mode) send in
// a 64-byte report with ID 2, fields in the order of the Bar Code Scanner
// usage page's Scanned Data Report:
//
//	offset  size  field
//	0       1     data length (valid bytes in the decoded data field)
//	1       3     symbology identifier 1-3 (AIM id such as "]E0", or zeros)
//	4       56    decoded data (usage 0xFE), zero padded
//	60      1     vendor symbology code
//	61      1     reserved
//	62      1     bit 0: decode data continued (usage 0xFF)
//
// A shorter report is accepted when it holds the data its length byte
// announces; its missing trailing fields read as zero. ok is false for a
// report with another report ID (status, trigger), which callers skip. It
// returns an error matching ErrShortReport or ErrBadReport for reports it
// cannot read.
func ParsePOSReport(report []byte, f POSFormat) (r POSReport, ok bool, err error) {
	body := report
	if f.ReportID != 0 {
		if len(report) == 0 || report[0] != f.ReportID {
			return POSReport{}, false, nil
		}
		body = report[1:]
	}
	if len(body) < posMinLen {
		return POSReport{}, false, newError(CodeShortReport, fmt.Sprintf("%d-byte scanned data report", len(report)))
	}
	n := int(body[posLenOff])
	if n > POSDataMax || posDataOff+n > len(body) {
		return POSReport{}, false, newError(CodeBadReport, fmt.Sprintf("data length %d in a %d-byte report", n, len(report)))
	}
	r.Symbology = symbology(body[posSymOff:posDataOff])
	r.Data = append([]byte(nil), body[posDataOff:posDataOff+n]...)
	if len(body) > posVendorOff {
		r.Vendor = body[posVendorOff]
	}
	if len(body) > posFlagsOff {
		r.More = body[posFlagsOff]&posContinueBit != 0
	}
	return r, true, nil
}

// symbology returns the printable part of the AIM identifier bytes.
func symbology(b []byte) string {
	end := 0
	for end < len(b) && b[end] >= 0x20 && b[end] < 0x7f {
		end++
	}
	return string(b[:end])
}

// EncodePOSReport builds the reports a HID-POS scanner sends for data in
// format f, split into 56-byte chunks with the continuation flag set on all
// but the last. It is the inverse of POSDecoder, for simulators and tests.
func EncodePOSReport(f POSFormat, symbology string, vendor byte, data []byte) [][]byte {
	var out [][]byte
	for first := true; first || len(data) > 0; first = false {
		chunk := data
		if len(chunk) > POSDataMax {
			chunk = chunk[:POSDataMax]
		}
		data = data[len(chunk):]
		body := make([]byte, posFullLen)
		body[posLenOff] = byte(len(chunk))
		copy(body[posSymOff:posDataOff], symbology)
		copy(body[posDataOff:], chunk)
		body[posVendorOff] = vendor
		if len(data) > 0 {
			body[posFlagsOff] = posContinueBit
		}
		if f.ReportID != 0 {
			body = append([]byte{f.ReportID}, body...)
		}
		out = append(out, body)
	}
	return out
}

// Barcode is one complete HID-POS scan.
type Barcode struct {
	Data      []byte
	Symbology string
}

// POSDecoder joins scanned data reports into barcodes. It is not safe for
// concurrent use.
type POSDecoder struct {
	// Format frames the reports.
	Format POSFormat
	// MaxScan bounds a barcode's length in bytes (default DefaultMaxScan).
	MaxScan int

	pending []byte
	sym     string
	over    bool
}

// Feed parses one input report. It returns a barcode once its last report
// (no continuation flag) arrives. Zero-length reports and reports with
// other IDs are skipped. A barcode over MaxScan is dropped with an error
// matching ErrTooLong.
func (d *POSDecoder) Feed(report []byte) (Barcode, bool, error) {
	if len(report) == 0 {
		return Barcode{}, false, nil
	}
	r, ok, err := ParsePOSReport(report, d.Format)
	if err != nil || !ok {
		return Barcode{}, false, err
	}
	if len(d.pending) == 0 {
		d.sym = r.Symbology
	}
	if len(d.pending)+len(r.Data) > d.maxScan() {
		d.over = true
	} else if !d.over {
		d.pending = append(d.pending, r.Data...)
	}
	if r.More {
		return Barcode{}, false, nil
	}
	b, over := Barcode{Data: d.pending, Symbology: d.sym}, d.over
	d.Reset()
	if over {
		return Barcode{}, false, newError(CodeTooLong, fmt.Sprintf("HID-POS barcode longer than %d bytes dropped", d.maxScan()))
	}
	return b, len(b.Data) > 0, nil
}

// Reset drops a partly received barcode.
func (d *POSDecoder) Reset() {
	d.pending, d.sym, d.over = nil, "", false
}

func (d *POSDecoder) maxScan() int {
	if d.MaxScan <= 0 {
		return DefaultMaxScan
	}
	return d.MaxScan
}
