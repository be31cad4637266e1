package preview

import (
	"fmt"
	"strings"

	"github.com/tillbridge/tillbridge/devices/escpos"
)

// Text renders doc as plain text, cols font-A columns wide, honouring
// alignment and double width. QR codes, barcodes, cuts and drawer kicks
// become bracketed marks.
func Text(doc Document, cols int) string {
	if cols <= 0 {
		cols = 48
	}
	var b strings.Builder
	for _, bl := range doc.Blocks {
		line, w := blockText(bl, cols)
		b.WriteString(alignText(line, w, cols, bl.Align))
		b.WriteByte('\n')
	}
	return b.String()
}

// blockText returns a block's text and its printed width in columns.
func blockText(bl Block, cols int) (string, int) {
	var s string
	switch bl.Kind {
	case TextLine:
		w := 0
		for _, sp := range bl.Spans {
			w += escpos.TextWidth(sp.Text) * max(sp.Width, 1)
		}
		return bl.Text(), w
	case QRCode:
		s = fmt.Sprintf("[QR %c: %s]", bl.QRLevel, bl.Data)
	case Barcode:
		s = fmt.Sprintf("[%s: %s]", bl.Symbology, bl.Data)
	case CutMark:
		label := " partial cut "
		if bl.Cut == escpos.CutFull {
			label = " cut "
		}
		pad := max(cols-len(label), 2)
		s = strings.Repeat("-", pad/2) + label + strings.Repeat("-", pad-pad/2)
		return s, len(s)
	case DrawerKick:
		s = fmt.Sprintf("[drawer kick: pin %d, %v on / %v off]", bl.DrawerPin, bl.DrawerOn, bl.DrawerOff)
	case Image:
		s = fmt.Sprintf("[image %dx%d]", bl.ImageW, bl.ImageH)
	}
	return s, escpos.TextWidth(s)
}

func alignText(s string, w, cols int, a escpos.Align) string {
	pad := cols - w
	if pad <= 0 || w == 0 || a == escpos.AlignLeft {
		return s
	}
	if a == escpos.AlignCenter {
		pad /= 2
	}
	return strings.Repeat(" ", pad) + s
}
