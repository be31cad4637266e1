package preview

import (
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/devices/escpos"
)

// escArgs is the argument count of ESC commands that only set state the
// preview does not draw.
func escArgs(c byte) (int, bool) {
	switch c {
	case '2', 'L', 'S', '<':
		return 0, true
	case 'M', 'R', 'r', 'V', '{', 'U', '3', ' ', '=', 'T', 'e', '%':
		return 1, true
	case '$', '\\', 'c', 'B':
		return 2, true
	case 'W':
		return 8, true
	}
	return 0, false
}

func (d *decoder) esc() {
	a, ok := d.args(0, 2)
	if !ok {
		return
	}
	switch c := a[1]; c {
	case '@':
		d.flushIfPending()
		d.resetStyle()
		d.page, d.chinese, d.utf8 = d.defPage, d.defChinese, false
	case 't':
		if b, ok := d.args(0, 1); ok {
			d.endSpan()
			d.page = b[0]
		}
	case 'E', 'G':
		if b, ok := d.args(0, 1); ok {
			d.setStyle(func(s *Span) { s.Bold = b[0]&1 == 1 })
		}
	case '-':
		if b, ok := d.args(0, 1); ok {
			d.setStyle(func(s *Span) { s.Underline = int(b[0]) % 48 % 3 })
		}
	case '!':
		if b, ok := d.args(0, 1); ok {
			d.setStyle(func(s *Span) { printMode(s, b[0]) })
		}
	case 'a':
		if b, ok := d.args(0, 1); ok {
			d.align = escpos.Align(b[0] % 48 % 3)
		}
	case 'd':
		if b, ok := d.args(0, 1); ok {
			d.feed(int(b[0]))
		}
	case 'J':
		if b, ok := d.args(0, 1); ok {
			d.feed((int(b[0]) + 29) / 30)
		}
	case 'p':
		if b, ok := d.args(0, 3); ok {
			d.drawer(b[0], time.Duration(b[1])*2*time.Millisecond, time.Duration(b[2])*2*time.Millisecond)
		}
	case 'i', 'm':
		kind := escpos.CutPartial
		if c == 'i' {
			kind = escpos.CutFull
		}
		d.add(Block{Kind: CutMark, Cut: kind})
	case '*':
		d.bitImage()
	default:
		if n, ok := escArgs(c); ok {
			d.args(0, n)
			return
		}
		d.doc.Unknown++
	}
}

func printMode(s *Span, n byte) {
	s.Bold = n&0x08 != 0
	s.Height, s.Width, s.Underline = 1, 1, 0
	if n&0x10 != 0 {
		s.Height = 2
	}
	if n&0x20 != 0 {
		s.Width = 2
	}
	if n&0x80 != 0 {
		s.Underline = 1
	}
}

// bitImage skips ESC * m nL nH data (column image).
func (d *decoder) bitImage() {
	b, ok := d.args(0, 3)
	if !ok {
		return
	}
	cols := int(b[1]) | int(b[2])<<8
	per := 1
	if b[0] >= 32 {
		per = 3
	}
	if _, ok := d.args(0, cols*per); ok {
		d.add(Block{Kind: Image, ImageW: cols, ImageH: per * 8})
	}
}

// gsArgs is the argument count of GS commands that only set state.
func gsArgs(c byte) (int, bool) {
	switch c {
	case ':':
		return 0, true
	case 'B', 'b', 'a', 'I', 'r', 'T', 'f', '/':
		return 1, true
	case 'L', 'W', 'P', '$', '\\':
		return 2, true
	}
	return 0, false
}

func (d *decoder) gs() {
	a, ok := d.args(0, 2)
	if !ok {
		return
	}
	switch c := a[1]; c {
	case '!':
		if b, ok := d.args(0, 1); ok {
			d.setStyle(func(s *Span) { s.Width, s.Height = int(b[0]>>4&7)+1, int(b[0]&7)+1 })
		}
	case 'V':
		d.cut()
	case '(':
		d.gsParen()
	case 'h':
		if b, ok := d.args(0, 1); ok {
			d.barH = int(b[0])
		}
	case 'w':
		if b, ok := d.args(0, 1); ok {
			d.barW = int(b[0])
		}
	case 'H':
		if b, ok := d.args(0, 1); ok {
			d.barHRI = int(b[0]) % 48 % 4
		}
	case 'k':
		d.barcode()
	case 'v':
		d.raster()
	case '8':
		d.gsLong()
	default:
		if n, ok := gsArgs(c); ok {
			d.args(0, n)
			return
		}
		d.doc.Unknown++
	}
}

// cut handles GS V m [n].
func (d *decoder) cut() {
	b, ok := d.args(0, 1)
	if !ok {
		return
	}
	m := b[0]
	if m >= 65 {
		if _, ok := d.args(0, 1); !ok {
			return
		}
	}
	kind := escpos.CutPartial
	switch m {
	case 0, 48, 65, 97, 103:
		kind = escpos.CutFull
	}
	d.add(Block{Kind: CutMark, Cut: kind})
}

// gsParen handles GS ( fn pL pH data; fn 'k' cn 49 is the QR code.
func (d *decoder) gsParen() {
	h, ok := d.args(0, 3)
	if !ok {
		return
	}
	body, ok := d.args(0, int(h[1])|int(h[2])<<8)
	if !ok || h[0] != 'k' || len(body) < 2 || body[0] != 0x31 {
		return
	}
	fn, p := body[1], body[2:]
	switch {
	case fn == 0x43 && len(p) >= 1:
		d.qrModule = int(p[0])
	case fn == 0x45 && len(p) >= 1:
		d.qrLevel = "LMQH"[int(p[0])%48%4]
	case fn == 0x50 && len(p) >= 1:
		d.qrData = string(p[1:])
	case fn == 0x51:
		d.add(Block{Kind: QRCode, Data: d.qrData, QRModule: d.qrModule, QRLevel: d.qrLevel})
	}
}

// gsLong skips GS 8 L p1 p2 p3 p4 data (large graphics data).
func (d *decoder) gsLong() {
	h, ok := d.args(0, 5)
	if !ok {
		return
	}
	n := int(h[1]) | int(h[2])<<8 | int(h[3])<<16 | int(h[4])<<24
	if n < 0 || n > len(d.in) {
		d.pos = len(d.in)
		return
	}
	d.args(0, n)
}

// raster handles GS v 0 m xL xH yL yH data.
func (d *decoder) raster() {
	h, ok := d.args(0, 6)
	if !ok {
		return
	}
	x, y := int(h[2])|int(h[3])<<8, int(h[4])|int(h[5])<<8
	if _, ok := d.args(0, x*y); ok {
		d.add(Block{Kind: Image, ImageW: x * 8, ImageH: y})
	}
}

// symbology names the GS k barcode type m.
func symbology(m byte) string {
	if m >= 65 {
		m -= 65
	}
	names := []string{"UPC-A", "UPC-E", "EAN13", "EAN8", "CODE39", "ITF", "CODABAR", "CODE93", "CODE128"}
	if int(m) < len(names) {
		return names[m]
	}
	return "UNKNOWN"
}

// barcode handles GS k m d1...dk NUL (m ≤ 6) and GS k m n d1...dn.
func (d *decoder) barcode() {
	m, ok := d.args(0, 1)
	if !ok {
		return
	}
	var data []byte
	if m[0] <= 6 {
		end := d.pos
		for end < len(d.in) && d.in[end] != 0 {
			end++
		}
		data, _ = d.args(0, end-d.pos)
		d.args(0, 1)
	} else {
		n, ok := d.args(0, 1)
		if !ok {
			return
		}
		if data, ok = d.args(0, int(n[0])); !ok {
			return
		}
	}
	sym := symbology(m[0])
	text := string(data)
	if sym == "CODE128" {
		text = code128Text(data)
	}
	d.add(Block{Kind: Barcode, Symbology: sym, Data: text, BarHeight: d.barH, BarWidth: d.barW, HRI: d.barHRI})
}

// code128Text removes ESC/POS CODE128 code-set markers ("{A", "{B", "{C"),
// unescapes "{{" and expands code set C digit pairs.
func code128Text(b []byte) string {
	var s strings.Builder
	setC := false
	for i := 0; i < len(b); i++ {
		if b[i] == '{' && i+1 < len(b) {
			i++
			switch b[i] {
			case '{':
				s.WriteByte('{')
			case 'C':
				setC = true
			case 'A', 'B':
				setC = false
			}
			continue
		}
		if setC {
			s.WriteByte('0' + b[i]/10%10)
			s.WriteByte('0' + b[i]%10)
			continue
		}
		s.WriteByte(b[i])
	}
	return s.String()
}

// fsArgs is the argument count of FS commands that only set state.
func fsArgs(c byte) (int, bool) {
	switch c {
	case '!', '-', 'W', 'C':
		return 1, true
	case 'S', 'p':
		return 2, true
	}
	return 0, false
}

func (d *decoder) fs() {
	a, ok := d.args(0, 2)
	if !ok {
		return
	}
	switch c := a[1]; c {
	case '&':
		d.endSpan()
		d.chinese = true
	case '.':
		d.endSpan()
		d.chinese = false
	case '(':
		d.fsParen()
	default:
		if n, ok := fsArgs(c); ok {
			d.args(0, n)
			if c == 'p' {
				d.add(Block{Kind: Image})
			}
			return
		}
		d.doc.Unknown++
	}
}

// fsParen handles FS ( fn pL pH data; FS ( C fn 48 selects UTF-8.
func (d *decoder) fsParen() {
	h, ok := d.args(0, 3)
	if !ok {
		return
	}
	body, ok := d.args(0, int(h[1])|int(h[2])<<8)
	if ok && h[0] == 'C' && len(body) >= 2 && body[0] == 0x30 {
		d.endSpan()
		d.utf8 = body[1] == 2 || body[1] == '2'
	}
}
