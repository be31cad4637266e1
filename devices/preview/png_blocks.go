package preview

import (
	"fmt"
	"image"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/draw"

	"github.com/tillbridge/tillbridge/devices/escpos"
)

// height returns the vertical space a block takes, in pixels.
func (r *renderer) height(bl Block) int {
	switch bl.Kind {
	case TextLine:
		h := 1
		for _, sp := range bl.Spans {
			h = max(h, sp.Height)
		}
		return CellHeight*h + LineSpacing - CellHeight
	case QRCode:
		if bm := r.qr(bl); bm != nil {
			return len(bm)*qrModule(bl) + 6
		}
		return LineSpacing
	case Barcode:
		return max(bl.BarHeight, 1) + LineSpacing*hriLines(bl.HRI) + 6
	case Image:
		return imageHeight(bl) + 6
	}
	return LineSpacing
}

// imageHeight bounds a raster image's outline (the image is not drawn).
func imageHeight(bl Block) int { return min(max(bl.ImageH, CellHeight), 2048) }

func hriLines(hri int) int {
	switch hri {
	case 1, 2:
		return 1
	case 3:
		return 2
	}
	return 0
}

// draw draws bl with its top at y.
func (r *renderer) draw(bl Block, y int) {
	switch bl.Kind {
	case TextLine:
		r.textLine(bl, y)
	case QRCode:
		r.drawQR(bl, y)
	case Barcode:
		r.drawBarcode(bl, y)
	case CutMark:
		r.drawCut(bl, y)
	case DrawerKick:
		s := fmt.Sprintf("[drawer kick pin %d]", bl.DrawerPin)
		r.text(s, r.left(len(s)*CellWidth, Block{}), y, 1, 1, false, 0, r.gray)
	case Image:
		w := max(bl.ImageW, 4*CellWidth)
		x := r.left(w, bl)
		r.box(image.Rect(x, y, x+w, y+imageHeight(bl)), r.gray)
		r.text("image", x+4, y+2, 1, 1, false, 0, r.gray)
	}
}

func (r *renderer) textLine(bl Block, y int) {
	h, w := 1, 0
	for _, sp := range bl.Spans {
		h = max(h, sp.Height)
		w += escpos.TextWidth(sp.Text) * CellWidth * max(sp.Width, 1)
	}
	x := r.left(w, bl)
	for _, sp := range bl.Spans {
		sw, sh := max(sp.Width, 1), max(sp.Height, 1)
		// Characters share the line's baseline, as on paper.
		x = r.text(sp.Text, x, y+CellHeight*(h-sh), sw, sh, sp.Bold, sp.Underline, r.ink)
	}
}

// qr returns the module bitmap (with quiet zone) for a QR block, or nil.
func (r *renderer) qr(bl Block) [][]bool {
	key := string(bl.QRLevel) + bl.Data
	if bm, ok := r.qrs[key]; ok {
		return bm
	}
	var bm [][]bool
	if bl.Data != "" {
		if q, err := qrcode.New(bl.Data, qrLevel(bl.QRLevel)); err == nil {
			bm = q.Bitmap()
		}
	}
	r.qrs[key] = bm
	return bm
}

// qrModule is the module size in dots, limited to the printer's 1..16.
func qrModule(bl Block) int { return min(max(bl.QRModule, 1), 16) }

func qrLevel(l byte) qrcode.RecoveryLevel {
	switch l {
	case 'M':
		return qrcode.Medium
	case 'Q':
		return qrcode.High
	case 'H':
		return qrcode.Highest
	}
	return qrcode.Low
}

func (r *renderer) drawQR(bl Block, y int) {
	bm := r.qr(bl)
	if bm == nil {
		r.text("[QR: no data]", r.left(13*CellWidth, bl), y, 1, 1, false, 0, r.gray)
		return
	}
	m := qrModule(bl)
	x0 := r.left(len(bm)*m, bl)
	for j, row := range bm {
		for i, on := range row {
			if on {
				draw.Draw(r.img, image.Rect(x0+i*m, y+j*m, x0+(i+1)*m, y+(j+1)*m), r.ink, image.Point{}, draw.Src)
			}
		}
	}
}

// drawBarcode draws illustrative bars (derived from the data, not a real
// symbology encoding) with the human-readable text where the job put it.
func (r *renderer) drawBarcode(bl Block, y int) {
	mw := max(bl.BarWidth, 1)
	bars := barPattern(bl.Data)
	w := len(bars) * mw
	x0 := r.left(w, bl)
	label := bl.Symbology + " " + bl.Data
	lx := r.left(escpos.TextWidth(label)*CellWidth, bl)
	if bl.HRI&1 != 0 {
		r.text(label, lx, y, 1, 1, false, 0, r.ink)
		y += LineSpacing
	}
	for i, on := range bars {
		if on {
			draw.Draw(r.img, image.Rect(x0+i*mw, y, x0+(i+1)*mw, y+max(bl.BarHeight, 1)), r.ink, image.Point{}, draw.Src)
		}
	}
	if bl.HRI&2 != 0 {
		r.text(label, lx, y+bl.BarHeight+4, 1, 1, false, 0, r.ink)
	}
}

// barPattern turns data into a start bar, 11 modules per byte, and a stop
// bar, so different data looks different; it is not scannable.
func barPattern(data string) []bool {
	bars := []bool{true, true, false, true, false, false}
	for i := 0; i < len(data); i++ {
		v := uint16(data[i])*37 + 0x5a5
		for b := 0; b < 11; b++ {
			bars = append(bars, b == 0 || v>>b&1 == 1)
		}
	}
	return append(bars, true, true, false, false, true, true, true, false, true, true)
}

func (r *renderer) drawCut(bl Block, y int) {
	mid := y + LineSpacing/2
	for x := r.o.Margin; x < r.o.Margin+r.o.WidthDots; x += 12 {
		draw.Draw(r.img, image.Rect(x, mid, x+6, mid+2), r.gray, image.Point{}, draw.Src)
	}
	label := " partial cut "
	if bl.Cut == escpos.CutFull {
		label = " cut "
	}
	x := r.left(len(label)*CellWidth, Block{Align: escpos.AlignCenter})
	draw.Draw(r.img, image.Rect(x, y, x+len(label)*CellWidth, y+CellHeight+3), image.White, image.Point{}, draw.Src)
	r.text(label, x, y+3, 1, 1, false, 0, r.gray)
}
