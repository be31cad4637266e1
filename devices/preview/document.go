// Package preview decodes an ESC/POS byte stream back into a Document and
// renders it as plain text or as a PNG picture of the paper, so store IT
// can see what a receipt prints and tests can read printed bytes back.
//
// The PNG uses a monospace bitmap font at the printer's dot resolution
// (font A cell 12×24 dots), honours bold, underline, double width and
// height and alignment, draws QR codes as real, scannable modules from the
// GS ( k stored data, 1D barcodes as illustrative bars with their text, and
// marks cuts and drawer kicks.
package preview

import (
	"time"

	"github.com/tillbridge/tillbridge/devices/escpos"
)

// Kind is the kind of a Block.
type Kind int

// Block kinds.
const (
	TextLine Kind = iota
	QRCode
	Barcode
	CutMark
	DrawerKick
	Image
)

// Span is a run of text with one style.
type Span struct {
	Text      string
	Bold      bool
	Underline int
	// Width and Height are the character magnification, 1..8.
	Width, Height int
}

// Block is one printed element, in paper order.
type Block struct {
	Kind  Kind
	Align escpos.Align
	// Spans is the text of a TextLine (empty for a blank line).
	Spans []Span
	// Data is the content of a QR code or barcode.
	Data string
	// QRModule is the QR module size in dots; QRLevel 'L','M','Q','H'.
	QRModule int
	QRLevel  byte
	// Symbology names a barcode ("CODE128", "EAN13"...); BarHeight and
	// BarWidth are in dots; HRI is the text position (0 none, 1 above,
	// 2 below, 3 both).
	Symbology           string
	BarHeight, BarWidth int
	HRI                 int
	// Cut is the cut kind of a CutMark (full or partial).
	Cut escpos.Cut
	// DrawerPin, DrawerOn and DrawerOff describe a DrawerKick.
	DrawerPin           int
	DrawerOn, DrawerOff time.Duration
	// ImageW and ImageH are a raster image's size in dots (not drawn).
	ImageW, ImageH int
}

// Text returns the concatenated span texts of a TextLine.
func (b Block) Text() string {
	s := ""
	for _, sp := range b.Spans {
		s += sp.Text
	}
	return s
}

// Document is a decoded ESC/POS stream.
type Document struct {
	Blocks []Block
	// Unknown counts commands the decoder skipped without understanding.
	Unknown int
	// StatusRequests counts DLE EOT requests seen (they print nothing).
	StatusRequests int
}
