package escpos

import "golang.org/x/text/width"

// RuneWidth is a rune's width in font A columns (cells): 2 for East Asian
// wide and full-width characters, 1 otherwise. The receipt layout and the
// preview both measure text with it, so what the layout fits on a line is
// what the preview draws.
func RuneWidth(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// TextWidth is the printed width of s in font A columns.
func TextWidth(s string) int {
	n := 0
	for _, r := range s {
		n += RuneWidth(r)
	}
	return n
}
