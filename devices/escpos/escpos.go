// Package escpos encodes ESC/POS receipt printer commands and parses the
// printer's real-time status replies, and provides the ESC/POS Printer
// driver that runs over any devices.Transport.
//
// The Encoder is a small builder: each method appends one command and
// returns the Encoder, and Bytes returns the job. Text is sanitized (no
// control characters survive) and encoded for the printer Profile's code
// page, so texts from configuration or the ECR cannot inject commands.
package escpos

import (
	"bytes"
	"fmt"
	"time"
)

// Control bytes used by ESC/POS.
const (
	ESC byte = 0x1b
	GS  byte = 0x1d
	FS  byte = 0x1c
	DLE byte = 0x10
	EOT byte = 0x04
	LF  byte = 0x0a
)

// Align is a paragraph alignment (ESC a n).
type Align byte

// Alignments.
const (
	AlignLeft   Align = 0
	AlignCenter Align = 1
	AlignRight  Align = 2
)

// Underline modes (ESC - n).
const (
	UnderlineOff   = 0
	UnderlineThin  = 1
	UnderlineThick = 2
)

// Cut modes (GS V m n, function B: feed n dots then cut).
type Cut byte

// Cut kinds.
const (
	CutFull    Cut = 65
	CutPartial Cut = 66
)

// Encoder builds one ESC/POS job for a Profile. The first error (for
// example QR data too long) is kept and returned by Err and Job.
type Encoder struct {
	buf bytes.Buffer
	p   Profile
	err error
}

// NewEncoder returns an empty Encoder for p. Call Init first in a job.
func NewEncoder(p Profile) *Encoder { return &Encoder{p: p} }

// Profile returns the profile the encoder was built for.
func (e *Encoder) Profile() Profile { return e.p }

// Bytes returns the encoded job so far.
func (e *Encoder) Bytes() []byte { return bytes.Clone(e.buf.Bytes()) }

// Err returns the first encoding error, if any.
func (e *Encoder) Err() error { return e.err }

// Job returns the encoded bytes, or the first encoding error.
func (e *Encoder) Job() ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	return e.Bytes(), nil
}

func (e *Encoder) raw(b ...byte) *Encoder {
	e.buf.Write(b)
	return e
}

func (e *Encoder) fail(err error) *Encoder {
	if e.err == nil {
		e.err = err
	}
	return e
}

// Raw appends bytes unchanged. Use it only for commands the encoder lacks.
func (e *Encoder) Raw(b []byte) *Encoder {
	e.buf.Write(b)
	return e
}

// Init resets the printer (ESC @) and selects the profile's text encoding:
// Chinese mode (FS &) for GB18030, UTF-8 (FS ( C) for UTF-8, else the
// single-byte code page (ESC t n), cancelling Chinese mode first (FS .) on
// printers that have one.
func (e *Encoder) Init() *Encoder {
	e.raw(ESC, '@')
	switch e.p.Encoding {
	case GB18030:
		return e.raw(FS, '&')
	case UTF8:
		return e.raw(FS, '(', 'C', 0x02, 0x00, 0x30, 0x02)
	}
	if e.p.Chinese {
		e.raw(FS, '.')
	}
	return e.raw(ESC, 't', e.p.CodePage)
}

// Text appends s encoded for the profile, without a line feed.
func (e *Encoder) Text(s string) *Encoder {
	e.buf.Write(encodeText(e.p.Encoding, e.p.CodePage, s))
	return e
}

// Line appends s and a line feed.
func (e *Encoder) Line(s string) *Encoder { return e.Text(s).raw(LF) }

// LF appends one line feed.
func (e *Encoder) LF() *Encoder { return e.raw(LF) }

// Feed prints the buffer and feeds n lines (ESC d n), n in 0..255.
func (e *Encoder) Feed(n int) *Encoder { return e.raw(ESC, 'd', clampByte(n, 0, 255)) }

// Bold turns emphasis on or off (ESC E n).
func (e *Encoder) Bold(on bool) *Encoder { return e.raw(ESC, 'E', boolByte(on)) }

// Underline sets the underline mode: UnderlineOff, UnderlineThin or
// UnderlineThick (ESC - n).
func (e *Encoder) Underline(mode int) *Encoder { return e.raw(ESC, '-', clampByte(mode, 0, 2)) }

// Size sets character magnification, width and height 1..8 (GS ! n).
func (e *Encoder) Size(width, height int) *Encoder {
	w := clampByte(width, 1, 8) - 1
	h := clampByte(height, 1, 8) - 1
	return e.raw(GS, '!', w<<4|h)
}

// Normal resets size, bold and underline.
func (e *Encoder) Normal() *Encoder { return e.Size(1, 1).Bold(false).Underline(UnderlineOff) }

// DoubleWidth and DoubleHeight are Size shorthands.
func (e *Encoder) DoubleWidth() *Encoder { return e.Size(2, 1) }

// DoubleHeight sets double height, normal width.
func (e *Encoder) DoubleHeight() *Encoder { return e.Size(1, 2) }

// Align sets the alignment for following lines (ESC a n).
func (e *Encoder) Align(a Align) *Encoder { return e.raw(ESC, 'a', byte(a)%3) }

// Cut feeds feedDots dots and cuts (GS V m n). A profile without cutter
// gets a paper feed to the tear bar instead.
func (e *Encoder) Cut(kind Cut, feedDots int) *Encoder {
	if !e.p.Cutter {
		return e.Feed(4)
	}
	if kind != CutFull {
		kind = CutPartial
	}
	return e.raw(GS, 'V', byte(kind), clampByte(feedDots, 0, 255))
}

// Drawer pins for the kick-out connector.
const (
	DrawerPin2 = 2
	DrawerPin5 = 5
)

// DrawerKick pulses the cash-drawer connector (ESC p m t1 t2): pin 2 or 5,
// on and off times in 2 ms steps (2..510 ms). Both times are always sent:
// kicks without an off time are a known cause of drawers that open only
// every second time.
func (e *Encoder) DrawerKick(pin int, on, off time.Duration) *Encoder {
	var m byte
	switch pin {
	case DrawerPin2:
		m = 0
	case DrawerPin5:
		m = 1
	default:
		return e.fail(fmt.Errorf("escpos: drawer pin %d: must be 2 or 5", pin))
	}
	t1, t2 := pulseUnits(on), pulseUnits(off)
	if t1 == 0 || t2 == 0 {
		return e.fail(fmt.Errorf("escpos: drawer pulse %v/%v: must be 2..510 ms", on, off))
	}
	if t2 < t1 {
		t2 = t1
	}
	return e.raw(ESC, 'p', m, t1, t2)
}

// pulseUnits converts d to 2 ms units, 0 when out of range.
func pulseUnits(d time.Duration) byte {
	u := d / (2 * time.Millisecond)
	if u < 1 || u > 255 {
		return 0
	}
	return byte(u)
}

// StatusRequest returns the real-time status request DLE EOT n (n 1..4).
func StatusRequest(n int) []byte { return []byte{DLE, EOT, byte(n)} }

func clampByte(v, lo, hi int) byte {
	if v < lo {
		v = lo
	}
	if v > hi {
		v = hi
	}
	return byte(v)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
