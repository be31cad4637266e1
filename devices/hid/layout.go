package hid

import (
	"maps"
	"slices"
	"strings"
)

// Keyboard page usages with a meaning of their own in a scan.
const (
	UsageEnter       = 0x28
	UsageTab         = 0x2b
	UsageSpace       = 0x2c
	UsageCapsLock    = 0x39
	UsageKeypadEnter = 0x58
	usageRollOver    = 0x01 // ErrorRollOver: too many keys, report invalid
	usageUndefined   = 0x03 // ErrorUndefined; 0x02 is POSTFail
	usageLetterA     = 0x04
	usageDigit1      = 0x1e
	usageKeypad1     = 0x59
	usageKeypad0     = 0x62
	usageModFirst    = 0xe0
	usageModLast     = 0xe7
)

// Modifier bits of the first byte of a boot keyboard report.
const (
	ModLeftCtrl   = 0x01
	ModLeftShift  = 0x02
	ModLeftAlt    = 0x04
	ModLeftGUI    = 0x08
	ModRightCtrl  = 0x10
	ModRightShift = 0x20
	ModRightAlt   = 0x40 // AltGr on European layouts
	ModRightGUI   = 0x80
)

// key is what one key usage types on a layout: without modifier, with
// Shift, with AltGr. caps says whether Caps Lock acts as Shift on it.
type key struct {
	base, shift, altgr rune
	caps               bool
}

// Layout maps keyboard usages to characters for one national layout. A
// Layout is immutable once built; share it freely.
type Layout struct {
	name string
	keys [256]key
	// iso is set for ISO keyboards, whose key left of Enter sends usage
	// 0x32 (Non-US #); ANSI (US) keyboards send 0x31 (\) there. Both are
	// decoded the same; Reports uses the one the layout's keyboards send.
	iso bool
}

// Name is the layout's name as passed to LookupLayout.
func (l *Layout) Name() string { return l.name }

// layoutBuilders lists the supported layouts. It is a function so the
// package keeps no mutable state.
func layoutBuilders() map[string]func() *Layout {
	return map[string]func() *Layout{
		"us": layoutUS,
		"uk": layoutUK,
		"gb": layoutUK,
		"de": layoutDE,
		"fr": layoutFR,
	}
}

// Layouts returns the names LookupLayout accepts, sorted.
func Layouts() []string {
	return slices.Sorted(maps.Keys(layoutBuilders()))
}

// LookupLayout returns the named layout: "us" (US QWERTY), "uk" or "gb"
// (UK QWERTY), "de" (German QWERTZ), "fr" (French AZERTY). Names are case
// insensitive; "" means "us".
func LookupLayout(name string) (*Layout, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		n = "us"
	}
	build, ok := layoutBuilders()[n]
	if !ok {
		return nil, newError(CodeUnknownLayout, "layout "+name+" (known: "+strings.Join(Layouts(), ", ")+")")
	}
	return build(), nil
}

// set defines one key.
func (l *Layout) set(usage byte, base, shift rune, caps bool) {
	l.keys[usage] = key{base: base, shift: shift, caps: caps}
}

// row defines consecutive keys from two strings of equal length; "\x00" in
// shift means the key types nothing with Shift.
func (l *Layout) row(first byte, base, shift string, caps bool) {
	b, s := []rune(base), []rune(shift)
	if len(b) != len(s) {
		panic("hid: layout row " + base + " / " + shift + " lengths differ") // programming error in a table
	}
	for i := range b {
		l.set(first+byte(i), b[i], s[i], caps)
	}
}

// altgr adds AltGr characters: pairs of usage and rune.
func (l *Layout) altgr(pairs map[byte]rune) {
	for u, r := range pairs {
		l.keys[u].altgr = r
	}
}

// newLayout builds the parts every layout shares: letters a-z at their
// usages, space, and the keypad (Num Lock assumed on, as scanners do).
func newLayout(name string) *Layout {
	l := &Layout{name: name}
	for i := 0; i < 26; i++ {
		l.set(usageLetterA+byte(i), rune('a'+i), rune('A'+i), true)
	}
	l.set(UsageSpace, ' ', ' ', false)
	l.row(0x54, "/*-+", "/*-+", false)
	l.row(usageKeypad1, "1234567890.", "1234567890.", false)
	return l
}

// layoutUS is US QWERTY.
func layoutUS() *Layout {
	l := newLayout("us")
	l.row(usageDigit1, "1234567890", "!@#$%^&*()", false)
	l.row(0x2d, "-=[]\\\\;'`,./", "_+{}||:\"~<>?", false)
	l.set(0x64, '\\', '|', false)
	return l
}

// layoutUK is UK QWERTY: " and @ swapped against US, £ on Shift+3, # on
// the key left of Enter and \ left of Z.
func layoutUK() *Layout {
	l := newLayout("uk")
	l.iso = true
	l.row(usageDigit1, "1234567890", "!\"£$%^&*()", false)
	l.row(0x2d, "-=[]##;'`,./", "_+{}~~:@¬<>?", false)
	l.set(0x64, '\\', '|', false)
	l.altgr(map[byte]rune{0x21: '€'})
	return l
}

// layoutDE is German QWERTZ: Y and Z swapped, umlauts, and @ { [ ] } \ ~ |
// on AltGr. Dead keys (^ ´ `) type their own character.
func layoutDE() *Layout {
	l := newLayout("de")
	l.iso = true
	l.set(0x1c, 'z', 'Z', true) // the key US calls Y
	l.set(0x1d, 'y', 'Y', true) // the key US calls Z
	l.row(usageDigit1, "1234567890", "!\"§$%&/()=", false)
	l.row(0x2d, "ß´", "?`", false)
	l.set(0x2f, 'ü', 'Ü', true)
	l.row(0x30, "+##", "*''", false)
	l.set(0x33, 'ö', 'Ö', true)
	l.set(0x34, 'ä', 'Ä', true)
	l.row(0x35, "^,.-", "°;:_", false)
	l.set(0x64, '<', '>', false)
	l.set(0x63, ',', ',', false) // keypad decimal separator
	l.altgr(map[byte]rune{
		0x14: '@', 0x08: '€', 0x10: 'µ', 0x1f: '²', 0x20: '³',
		0x24: '{', 0x25: '[', 0x26: ']', 0x27: '}', 0x2d: '\\', 0x30: '~', 0x64: '|',
	})
	return l
}

// layoutFR is French AZERTY (as on Windows): A/Q and Z/W swapped, M right
// of L, and the digit row types "&é\"'(-è_çà" without Shift: digits need
// Shift, or Caps Lock, which acts as Shift on the digit row.
func layoutFR() *Layout {
	l := newLayout("fr")
	l.iso = true
	l.set(0x04, 'q', 'Q', true) // the key US calls A
	l.set(0x14, 'a', 'A', true) // the key US calls Q
	l.set(0x1a, 'z', 'Z', true) // the key US calls W
	l.set(0x1d, 'w', 'W', true) // the key US calls Z
	l.set(0x33, 'm', 'M', true) // the key US calls ;
	l.set(0x10, ',', '?', false)
	l.row(usageDigit1, "&é\"'(-è_çà", "1234567890", true)
	l.row(0x2d, ")=^$**", "°+¨£µµ", false)
	l.set(0x34, 'ù', '%', true)
	l.set(0x35, '²', 0, false)
	l.row(0x36, ";:!", "./§", false)
	l.set(0x64, '<', '>', false)
	l.altgr(map[byte]rune{
		0x1f: '~', 0x20: '#', 0x21: '{', 0x22: '[', 0x23: '|', 0x24: '`',
		0x25: '\\', 0x26: '^', 0x27: '@', 0x2d: ']', 0x2e: '}', 0x08: '€',
	})
	return l
}

// char returns what usage types with the given Shift, AltGr and Caps Lock
// state, or 0 when it types nothing.
func (l *Layout) char(usage byte, shift, altgr, caps bool) rune {
	k := l.keys[usage]
	if altgr {
		return k.altgr
	}
	if caps && k.caps {
		shift = !shift
	}
	if shift {
		return k.shift
	}
	return k.base
}
