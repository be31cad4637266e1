package escpos

import (
	"fmt"

	"github.com/tillbridge/tillbridge/devices"
)

// Real-time status requests (DLE EOT n).
const (
	StatusPrinter    = 1 // printer status: online, drawer pin 3
	StatusOffline    = 2 // offline cause: cover, feed button, paper end stop, error
	StatusError      = 3 // error cause: cutter, unrecoverable, auto-recoverable
	StatusPaperRoll  = 4 // paper roll sensor: near end, end
	statusFixedMask  = 0x93
	statusFixedValue = 0x12
)

// Bits of the DLE EOT replies (Epson numbering; clones follow it).
const (
	bitDrawerPin3  = 0x04 // n=1: drawer kick-out connector pin 3 high
	bitOffline     = 0x08 // n=1: offline
	bitCoverOpen   = 0x04 // n=2: cover open
	bitFeedButton  = 0x08 // n=2: paper being fed by the feed button
	bitPaperStop   = 0x20 // n=2: printing stopped by paper end
	bitErrorOccurs = 0x40 // n=2: an error occurred (see n=3)
	bitCutter      = 0x08 // n=3: autocutter error
	bitUnrecover   = 0x20 // n=3: unrecoverable error
	bitAutoRecover = 0x40 // n=3: automatically recoverable error
	bitsNearEnd    = 0x0c // n=4: paper roll near end
	bitsPaperEnd   = 0x60 // n=4: paper roll end
)

// StatusReply holds the reply bytes of one status poll. Present[n] is true
// when reply n was received.
type StatusReply struct {
	Bytes   [5]byte
	Present [5]bool
}

// Set records the reply b to DLE EOT n.
func (r *StatusReply) Set(n int, b byte) {
	if n >= 1 && n <= 4 {
		r.Bytes[n], r.Present[n] = b, true
	}
}

// ValidStatusByte reports whether b has the fixed bits every DLE EOT reply
// carries (bit 1 and 4 set, bit 0 and 7 clear). Anything else is not a
// status reply (a stray byte, an ASB frame, a non-ESC/POS printer).
func ValidStatusByte(b byte) bool { return b&statusFixedMask == statusFixedValue }

// ParseStatus turns replies into a PrinterStatus. It fails closed: the
// result has Known=true only when reply 1 is present and every present
// reply is well formed; otherwise Known=false with the reason in Detail and
// a returned error. Replies 2 and 4 are needed for cover and paper; a
// missing reply leaves its flags false but is noted in Detail.
func ParseStatus(r StatusReply) (devices.PrinterStatus, error) {
	var st devices.PrinterStatus
	for n := 1; n <= 4; n++ {
		if r.Present[n] && !ValidStatusByte(r.Bytes[n]) {
			st.Detail = fmt.Sprintf("malformed reply %#02x to DLE EOT %d", r.Bytes[n], n)
			return st, fmt.Errorf("escpos: %s", st.Detail)
		}
	}
	if !r.Present[1] {
		st.Detail = "no reply to DLE EOT 1"
		return st, fmt.Errorf("escpos: %s", st.Detail)
	}
	st.Known = true
	b1 := r.Bytes[1]
	st.Online = b1&bitOffline == 0
	st.DrawerOpen = b1&bitDrawerPin3 != 0
	if r.Present[2] {
		b2 := r.Bytes[2]
		st.CoverOpen = b2&bitCoverOpen != 0
		st.PaperEnd = b2&bitPaperStop != 0
		if b2&bitFeedButton != 0 {
			st.Detail = appendDetail(st.Detail, "paper feed button pressed")
		}
	}
	if r.Present[3] {
		b3 := r.Bytes[3]
		st.CutterError = b3&bitCutter != 0
		if b3&bitUnrecover != 0 {
			st.Detail = appendDetail(st.Detail, "unrecoverable error")
		}
		if b3&bitAutoRecover != 0 {
			st.Detail = appendDetail(st.Detail, "auto-recoverable error (head temperature)")
		}
	}
	if r.Present[4] {
		b4 := r.Bytes[4]
		st.PaperNearEnd = b4&bitsNearEnd != 0
		st.PaperEnd = st.PaperEnd || b4&bitsPaperEnd != 0
	} else {
		st.Detail = appendDetail(st.Detail, "paper sensor not read")
	}
	return st, nil
}

// needsErrorCause reports whether reply 2 says an error occurred, so
// DLE EOT 3 should be asked too.
func needsErrorCause(b2 byte) bool { return b2&bitErrorOccurs != 0 }

// EncodeStatus is the inverse of ParseStatus for reply n: the byte a
// printer in state st sends. Simulators and tests use it.
func EncodeStatus(n int, st devices.PrinterStatus) byte {
	b := byte(statusFixedValue)
	switch n {
	case StatusPrinter:
		b |= pick(!st.Online, bitOffline) | pick(st.DrawerOpen, bitDrawerPin3)
	case StatusOffline:
		b |= pick(st.CoverOpen, bitCoverOpen) | pick(st.PaperEnd, bitPaperStop) | pick(st.CutterError, bitErrorOccurs)
	case StatusError:
		b |= pick(st.CutterError, bitCutter)
	case StatusPaperRoll:
		b |= pick(st.PaperNearEnd, bitsNearEnd) | pick(st.PaperEnd, bitsPaperEnd)
	}
	return b
}

func pick(cond bool, bits byte) byte {
	if cond {
		return bits
	}
	return 0
}

func appendDetail(d, s string) string {
	if d == "" {
		return s
	}
	return d + "; " + s
}
