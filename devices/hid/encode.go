package hid

import "fmt"

// Reports returns the boot keyboard reports a keyboard-wedge scanner set to
// this layout sends to type text: for each character a key-down report
// (with Shift or AltGr as needed) and an all-zero key-up report. Enter and
// Tab are typed for '\n' and '\t'. It is the inverse of a Decoder with the
// same layout and serves simulators and tests. It returns an error matching
// ErrUnencodable for a character the layout has no key for.
func (l *Layout) Reports(text string) ([][]byte, error) {
	var out [][]byte
	for _, r := range text {
		u, mods, ok := l.find(r)
		if !ok {
			return nil, newError(CodeUnencodable, fmt.Sprintf("%q on layout %s", r, l.name))
		}
		out = append(out, []byte{mods, 0, u, 0, 0, 0, 0, 0}, make([]byte, BootReportLen))
	}
	return out, nil
}

// find returns a key and modifiers that type r without Caps Lock,
// preferring the main block over the keypad (as scanners do: a French
// scanner types "1" as Shift+&), then fewer modifiers.
func (l *Layout) find(r rune) (usage, mods byte, ok bool) {
	switch r {
	case '\n', '\r':
		return UsageEnter, 0, true
	case '\t':
		return UsageTab, 0, true
	}
	if u, m, ok := l.findIn(r, usageLetterA, 0x38); ok {
		return u, m, true
	}
	if u, m, ok := l.findIn(r, 0x64, 0x64); ok {
		return u, m, true
	}
	return l.findIn(r, 0x54, 0x63)
}

// findIn looks for r among usages first..last, without modifiers first.
func (l *Layout) findIn(r rune, first, last byte) (usage, mods byte, ok bool) {
	for _, m := range []byte{0, ModLeftShift, ModRightAlt} {
		for u := int(first); u <= int(last); u++ {
			if (l.iso && u == 0x31) || (!l.iso && u == 0x32) {
				continue // the same key on the other keyboard shape
			}
			k := l.keys[u]
			if (m == 0 && k.base == r) || (m == ModLeftShift && k.shift == r) || (m == ModRightAlt && k.altgr == r) {
				return byte(u), m, true
			}
		}
	}
	return 0, 0, false
}
