package receipt

import (
	"strings"

	"github.com/tillbridge/tillbridge/devices/escpos"
)

// wrap breaks s into lines of at most cols columns, at spaces when it can.
func wrap(s string, cols int) []string {
	if cols < 1 {
		cols = 1
	}
	var lines []string
	var cur strings.Builder
	curW := 0
	for _, word := range strings.Fields(s) {
		ww := escpos.TextWidth(word)
		switch {
		case curW == 0:
		case curW+1+ww <= cols:
			cur.WriteByte(' ')
			curW++
		default:
			lines = append(lines, cur.String())
			cur.Reset()
			curW = 0
		}
		for _, r := range word {
			rw := escpos.RuneWidth(r)
			if curW+rw > cols {
				lines = append(lines, cur.String())
				cur.Reset()
				curW = 0
			}
			cur.WriteRune(r)
			curW += rw
		}
	}
	if curW > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// row lays out label on the left and value on the right of a cols-wide
// line; when both do not fit, the value goes right-aligned on the
// following line(s).
func row(label, value string, cols int) []string {
	lw, vw := escpos.TextWidth(label), escpos.TextWidth(value)
	if lw+1+vw <= cols {
		return []string{label + strings.Repeat(" ", cols-lw-vw) + value}
	}
	out := wrap(label, cols)
	for _, v := range wrap(value, cols) {
		out = append(out, strings.Repeat(" ", cols-escpos.TextWidth(v))+v)
	}
	return out
}

// rule is a full-width separator line.
func rule(cols int) string { return strings.Repeat("-", cols) }
