package preview

import (
	"time"

	"github.com/tillbridge/tillbridge/devices/escpos"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Options sets the printer's power-on state for decoding, used until the
// stream selects an encoding itself (tillbridge's encoder always does).
type Options struct {
	// Chinese starts in Chinese (GB18030) mode, like Chinese-market
	// printers do.
	Chinese bool
	// CodePage is the power-on ESC t page (default 0, PC437).
	CodePage byte
}

// Decode parses an ESC/POS stream. It never fails: unknown commands are
// skipped and counted, and a truncated command ends the document.
func Decode(job []byte, o Options) Document {
	d := &decoder{in: job, chinese: o.Chinese, page: o.CodePage, defPage: o.CodePage, defChinese: o.Chinese}
	d.resetStyle()
	for d.pos < len(d.in) {
		d.step()
	}
	d.flushIfPending()
	return d.doc
}

// decoder is the ESC/POS interpreter state.
type decoder struct {
	in  []byte
	pos int
	doc Document

	chinese, utf8      bool
	page               byte
	defPage            byte
	defChinese         bool
	style              Span
	align              escpos.Align
	line               []Span
	raw                []byte
	qrData             string
	qrModule           int
	qrLevel            byte
	barH, barW, barHRI int
}

func (d *decoder) resetStyle() {
	d.style = Span{Width: 1, Height: 1}
	d.align = escpos.AlignLeft
	d.qrModule, d.qrLevel = 3, 'L'
	d.barH, d.barW, d.barHRI = 162, 3, 0
}

// args returns the n bytes after the k-byte command at pos and advances
// past them; ok=false (and the end of input) when truncated.
func (d *decoder) args(k, n int) ([]byte, bool) {
	start, end := d.pos+k, d.pos+k+n
	if end > len(d.in) {
		d.pos = len(d.in)
		return nil, false
	}
	d.pos = end
	return d.in[start:end], true
}

func (d *decoder) step() {
	c := d.in[d.pos]
	switch c {
	case escpos.LF:
		d.flushLine()
		d.pos++
	case escpos.ESC:
		d.esc()
	case escpos.GS:
		d.gs()
	case escpos.FS:
		d.fs()
	case escpos.DLE:
		d.dle()
	case '\t':
		d.raw = append(d.raw, ' ', ' ', ' ', ' ')
		d.pos++
	default:
		if c >= 0x20 {
			d.raw = append(d.raw, c)
		}
		d.pos++
	}
}

// endSpan closes the text run with the current style and encoding.
func (d *decoder) endSpan() {
	if len(d.raw) == 0 {
		return
	}
	sp := d.style
	sp.Text = d.decodeText(d.raw)
	d.line = append(d.line, sp)
	d.raw = d.raw[:0]
}

func (d *decoder) decodeText(b []byte) string {
	switch {
	case d.utf8:
		return string(b)
	case d.chinese:
		s, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err == nil {
			return string(s)
		}
	}
	cm := escpos.SingleByteCharmap(d.page)
	if cm == nil {
		cm = charmap.CodePage437
	}
	s, _ := cm.NewDecoder().Bytes(b)
	return string(s)
}

// flushLine ends the current line (LF).
func (d *decoder) flushLine() {
	d.endSpan()
	d.doc.Blocks = append(d.doc.Blocks, Block{Kind: TextLine, Align: d.align, Spans: d.line})
	d.line = nil
}

// flushIfPending ends the current line only if it has text.
func (d *decoder) flushIfPending() {
	if len(d.raw) > 0 || len(d.line) > 0 {
		d.flushLine()
	}
}

// blank adds n empty lines.
func (d *decoder) blank(n int) {
	for i := 0; i < n; i++ {
		d.doc.Blocks = append(d.doc.Blocks, Block{Kind: TextLine, Align: d.align})
	}
}

// feed prints pending text and feeds n lines in total (ESC d n).
func (d *decoder) feed(n int) {
	if len(d.raw) > 0 || len(d.line) > 0 {
		d.flushLine()
		n--
	}
	d.blank(n)
}

func (d *decoder) add(b Block) {
	d.flushIfPending()
	b.Align = d.align
	d.doc.Blocks = append(d.doc.Blocks, b)
}

func (d *decoder) unknown(k int) {
	d.doc.Unknown++
	d.pos = min(d.pos+k, len(d.in))
}

// setStyle applies f to the style after closing the current run.
func (d *decoder) setStyle(f func(*Span)) {
	d.endSpan()
	f(&d.style)
}

func (d *decoder) drawer(m byte, on, off time.Duration) {
	pin := escpos.DrawerPin2
	if m&1 == 1 {
		pin = escpos.DrawerPin5
	}
	d.add(Block{Kind: DrawerKick, DrawerPin: pin, DrawerOn: on, DrawerOff: off})
}

// dle handles real-time commands: status requests print nothing; DLE DC4
// 1 is a drawer pulse.
func (d *decoder) dle() {
	a, ok := d.args(1, 2)
	if !ok {
		return
	}
	switch a[0] {
	case escpos.EOT, 0x05: // DLE EOT n, DLE ENQ n
		d.doc.StatusRequests++
	case 0x14: // DLE DC4 fn m t (fn 1: pulse; fn 8: clear buffer has 7 more)
		rest, ok := d.args(0, 2)
		if !ok {
			return
		}
		if a[1] == 1 {
			t := time.Duration(rest[1]) * 100 * time.Millisecond
			d.drawer(rest[0], t, t)
		} else if a[1] == 8 {
			d.args(0, 5)
		}
	default:
		d.doc.Unknown++
	}
}
