package escpos

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Code page numbers for ESC t n (Epson numbering, also used by most clones).
const (
	CodePagePC437   byte = 0
	CodePagePC850   byte = 2
	CodePageWPC1252 byte = 16
	CodePagePC866   byte = 17
	CodePagePC858   byte = 19
)

// SingleByteCharmap returns the character map for an ESC t n code page, or
// nil when the page is not known here.
func SingleByteCharmap(n byte) *charmap.Charmap {
	switch n {
	case CodePagePC437:
		return charmap.CodePage437
	case CodePagePC850:
		return charmap.CodePage850
	case CodePageWPC1252:
		return charmap.Windows1252
	case CodePagePC866:
		return charmap.CodePage866
	case CodePagePC858:
		return charmap.CodePage858
	}
	return nil
}

// sanitize removes control characters from text so that receipt texts
// (configuration, ECR item names) can never smuggle in printer commands
// such as a drawer kick. Tabs become spaces; other controls are dropped.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			return -1
		case r == utf8.RuneError:
			return '?'
		}
		return r
	}, s)
}

// encodeText turns sanitized text into bytes for enc. Characters the
// encoding cannot represent become '?' (never the charmap's SUB byte, which
// some printers treat as a command).
func encodeText(enc Encoding, codePage byte, s string) []byte {
	s = sanitize(s)
	switch enc {
	case UTF8:
		return []byte(s)
	case GB18030:
		out, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
		if err != nil {
			return []byte(asciiOnly(s))
		}
		return out
	}
	cm := SingleByteCharmap(codePage)
	if cm == nil {
		cm = charmap.CodePage437
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := cm.EncodeRune(r)
		if !ok || (r >= 0x80 && b < 0x80) {
			b = '?'
		}
		out = append(out, b)
	}
	return out
}

// asciiOnly replaces every non-ASCII rune by '?'.
func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0x80 {
			return '?'
		}
		return r
	}, s)
}
