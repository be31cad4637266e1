package hid

import (
	"fmt"
	"strings"
)

// DefaultMaxScan is the longest scan a Decoder accepts by default, in
// characters. Payment codes are 16-24 digits; QR payloads are longer.
const DefaultMaxScan = 1024

// BootReportLen is the length of a boot keyboard input report.
const BootReportLen = 8

// Decoder turns boot keyboard reports from a keyboard-wedge scanner into
// scans. It is not safe for concurrent use; use one per scanner.
type Decoder struct {
	layout *Layout
	// MaxScan is the longest scan accepted; longer input is dropped up to
	// the next terminator and reported as ErrTooLong. Default
	// DefaultMaxScan.
	MaxScan int

	pressed  [256]bool // usages held down in the previous report
	mods     byte      // modifier byte of the previous report
	caps     bool      // Caps Lock state, toggled by the scanner
	buf      strings.Builder
	n        int  // characters in buf
	overflow bool // the current scan exceeded MaxScan
	altCode  int  // Alt+keypad code being typed, -1 when none
}

// NewDecoder returns a Decoder for scanners configured for layout l.
func NewDecoder(l *Layout) *Decoder {
	return &Decoder{layout: l, MaxScan: DefaultMaxScan, altCode: -1}
}

// Layout returns the decoder's layout.
func (d *Decoder) Layout() *Layout { return d.layout }

// Reset forgets pressed keys, Caps Lock and any partial scan, as after the
// scanner was unplugged.
func (d *Decoder) Reset() {
	*d = Decoder{layout: d.layout, MaxScan: d.MaxScan, altCode: -1}
}

// Feed decodes one input report and returns the scans it completed (each
// without its terminator; usually none or one). Zero-length and all-zero
// reports are tolerated; a report with a keyboard error usage (rollover)
// is ignored, as the HID spec asks. A key is typed once when it goes down,
// however many reports show it held. Feed returns an error matching
// ErrShortReport for a 1- or 2-byte report and ErrTooLong when a scan was
// dropped for its length; decoding continues after either.
func (d *Decoder) Feed(report []byte) ([]string, error) {
	switch {
	case len(report) == 0:
		return nil, nil
	case len(report) < 3:
		return nil, newError(CodeShortReport, fmt.Sprintf("%d-byte keyboard report", len(report)))
	}
	mods, keys := report[0], report[2:]
	for _, u := range keys {
		if u >= usageRollOver && u <= usageUndefined {
			return nil, nil // phantom state: keep the previous one
		}
		if u >= usageModFirst && u <= usageModLast {
			mods |= 1 << (u - usageModFirst) // modifier sent as a key
		}
	}
	var scans []string
	var err error
	if d.altReleased(mods) {
		d.finishAltCode()
	}
	var now [256]bool
	for _, u := range keys {
		if u == 0 || now[u] {
			continue
		}
		now[u] = true
		if d.pressed[u] {
			continue // held or repeated: typed already
		}
		s, ok, e := d.press(u, mods)
		if ok {
			scans = append(scans, s)
		}
		if e != nil {
			err = e
		}
	}
	d.pressed, d.mods = now, mods
	return scans, err
}

// altReleased reports whether Alt was let go since the previous report.
func (d *Decoder) altReleased(mods byte) bool {
	const alt = ModLeftAlt
	return d.mods&alt != 0 && mods&alt == 0
}

// press handles one key going down. It returns a completed scan when the
// key was a terminator.
func (d *Decoder) press(u byte, mods byte) (string, bool, error) {
	switch u {
	case UsageEnter, UsageKeypadEnter, UsageTab:
		return d.terminate()
	case UsageCapsLock:
		d.caps = !d.caps
		return "", false, nil
	}
	if d.altKeypad(u, mods) {
		return "", false, nil
	}
	shift := mods&(ModLeftShift|ModRightShift) != 0
	altgr := mods&ModRightAlt != 0 || (mods&(ModLeftCtrl|ModRightCtrl) != 0 && mods&ModLeftAlt != 0)
	ctrl := !altgr && mods&(ModLeftCtrl|ModRightCtrl) != 0
	r := d.layout.char(u, shift, altgr, d.caps)
	if ctrl {
		r = control(r)
	}
	if r != 0 {
		d.add(r)
	}
	return "", false, nil
}

// control maps Ctrl+letter to its ASCII control code (Ctrl+] is GS, the
// GS1 separator some scanners send); other Ctrl combinations type nothing.
func control(r rune) rune {
	switch {
	case r >= 'a' && r <= 'z':
		return r - 'a' + 1
	case r >= '@' && r <= '_':
		return r - '@'
	}
	return 0
}

// altKeypad accumulates an Alt+keypad character code (Left Alt held, keypad
// digits typed, the character appears when Alt is released): the
// layout-independent mode many scanners offer. It reports whether it used
// the key.
func (d *Decoder) altKeypad(u byte, mods byte) bool {
	if mods&ModLeftAlt == 0 || mods&^(ModLeftAlt) != 0 || u < usageKeypad1 || u > usageKeypad0 {
		return false
	}
	digit := int(u-usageKeypad1) + 1
	if u == usageKeypad0 {
		digit = 0
	}
	if d.altCode < 0 {
		d.altCode = 0
	}
	if d.altCode < 1000 {
		d.altCode = d.altCode*10 + digit
	}
	return true
}

// finishAltCode types the character of a completed Alt+keypad code. Only
// ASCII (1-127) is supported: above that the code page is ambiguous.
func (d *Decoder) finishAltCode() {
	if d.altCode > 0 && d.altCode < 128 {
		d.add(rune(d.altCode))
	}
	d.altCode = -1
}

// add appends one character to the scan being typed.
func (d *Decoder) add(r rune) {
	if d.n >= d.maxScan() {
		d.overflow = true
		return
	}
	d.buf.WriteRune(r)
	d.n++
}

func (d *Decoder) maxScan() int {
	if d.MaxScan <= 0 {
		return DefaultMaxScan
	}
	return d.MaxScan
}

// terminate ends the current scan. An empty scan (a lone Enter) yields
// nothing.
func (d *Decoder) terminate() (string, bool, error) {
	s, n, over := d.buf.String(), d.n, d.overflow
	d.buf.Reset()
	d.n, d.overflow = 0, false
	if over {
		return "", false, newError(CodeTooLong, fmt.Sprintf("scan longer than %d characters dropped", d.maxScan()))
	}
	return s, n > 0, nil
}

// Pending reports how many characters of an unfinished scan are buffered.
func (d *Decoder) Pending() int { return d.n }
