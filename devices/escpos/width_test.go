package escpos_test

import (
	"testing"

	"github.com/tillbridge/tillbridge/devices/escpos"
)

// TestTextWidth: East Asian wide and full-width characters take two font A
// columns, everything else one.
func TestTextWidth(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int{"": 0, "Zoo ticket": 10, "成人票": 6, "ＡＢ": 4, "HK$ 12.50 門票": 14, "ｱ": 1} {
		if got := escpos.TextWidth(s); got != want {
			t.Errorf("TextWidth(%q) = %d, want %d", s, got, want)
		}
	}
}
