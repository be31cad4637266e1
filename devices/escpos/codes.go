package escpos

import "fmt"

// QRLevel is the QR error-correction level.
type QRLevel byte

// QR error-correction levels (GS ( k fn 69).
const (
	QRLevelL QRLevel = 48
	QRLevelM QRLevel = 49
	QRLevelQ QRLevel = 50
	QRLevelH QRLevel = 51
)

// QROptions controls a QR code. Zero values take the defaults: model 2,
// module size 6 dots, level M.
type QROptions struct {
	// Model is 1 or 2.
	Model int
	// ModuleSize is the module width in dots, 1..16.
	ModuleSize int
	// Level is the error-correction level.
	Level QRLevel
}

// maxQRData is the GS ( k store limit (7089 numeric; bytes are fewer, but
// the printer rejects what does not fit and that is not our check).
const maxQRData = 7089

// QR prints data as a QR code: GS ( k model, size, level, store, print.
// Without QR support in the profile, the data is printed as text.
func (e *Encoder) QR(data string, o QROptions) *Encoder {
	if data == "" || len(data) > maxQRData {
		return e.fail(fmt.Errorf("escpos: QR data length %d: must be 1..%d", len(data), maxQRData))
	}
	if !e.p.QR {
		return e.Line(data)
	}
	model, size, level := byte(0x32), clampByte(o.ModuleSize, 1, 16), o.Level
	if o.Model == 1 {
		model = 0x31
	}
	if o.ModuleSize == 0 {
		size = 6
	}
	if level < QRLevelL || level > QRLevelH {
		level = QRLevelM
	}
	e.raw(GS, '(', 'k', 4, 0, 0x31, 0x41, model, 0)
	e.raw(GS, '(', 'k', 3, 0, 0x31, 0x43, size)
	e.raw(GS, '(', 'k', 3, 0, 0x31, 0x45, byte(level))
	n := len(data) + 3
	e.raw(GS, '(', 'k', byte(n), byte(n>>8), 0x31, 0x50, 0x30)
	e.buf.WriteString(data)
	return e.raw(GS, '(', 'k', 3, 0, 0x31, 0x51, 0x30)
}

// HRI is where a 1D barcode's human-readable text goes (GS H n).
type HRI byte

// HRI positions.
const (
	HRINone  HRI = 0
	HRIAbove HRI = 1
	HRIBelow HRI = 2
	HRIBoth  HRI = 3
)

// BarcodeOptions controls a 1D barcode. Zero values take the defaults:
// height 80 dots, module width 2 dots, HRI below.
type BarcodeOptions struct {
	Height int
	Width  int
	HRI    HRI
	// NoHRI suppresses the text (HRI zero value means "below").
	NoHRI bool
}

// Code128 prints data (printable ASCII, up to 253 bytes) as CODE128 using
// code set B (GS k 73 n {B data), with '{' escaped as "{{".
func (e *Encoder) Code128(data string, o BarcodeOptions) *Encoder {
	enc := []byte{'{', 'B'}
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c < 0x20 || c > 0x7e {
			return e.fail(fmt.Errorf("escpos: CODE128 data byte %#x at %d: printable ASCII only", c, i))
		}
		enc = append(enc, c)
		if c == '{' {
			enc = append(enc, '{')
		}
	}
	if len(data) == 0 || len(enc) > 255 {
		return e.fail(fmt.Errorf("escpos: CODE128 data length %d: must be 1..253", len(data)))
	}
	e.barcodeSetup(o)
	e.raw(GS, 'k', 73, byte(len(enc)))
	e.buf.Write(enc)
	return e
}

func (e *Encoder) barcodeSetup(o BarcodeOptions) {
	h, w, hri := o.Height, o.Width, o.HRI
	if h == 0 {
		h = 80
	}
	if w == 0 {
		w = 2
	}
	if hri == HRINone && !o.NoHRI {
		hri = HRIBelow
	}
	if o.NoHRI {
		hri = HRINone
	}
	e.raw(GS, 'h', clampByte(h, 1, 255))
	e.raw(GS, 'w', clampByte(w, 2, 6))
	e.raw(GS, 'H', byte(hri)&3)
}
