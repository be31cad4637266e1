package receipt

import "testing"

func TestFormatAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		minor int64
		cur   string
		want  string
	}{
		{3250, "EUR", "32.50"},
		{5, "EUR", "0.05"},
		{0, "USD", "0.00"},
		{123456789, "GBP", "1,234,567.89"},
		{1200, "JPY", "1,200"},
		{1200, "jpy", "1,200"},
		{50000, "KRW", "50,000"},
		{7, "KRW", "7"},
		{-1050, "EUR", "-10.50"},
		{100000, "CNY", "1,000.00"},
	}
	for _, tt := range tests {
		if got := FormatAmount(tt.minor, tt.cur); got != tt.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", tt.minor, tt.cur, got, tt.want)
		}
	}
	if got := FormatMoney(1200, "jpy"); got != "JPY 1,200" {
		t.Errorf("FormatMoney = %q", got)
	}
}

func TestMaskBuyer(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                  "",
		"159****5620":       "159****5620",
		"abc***@163.com":    "abc***@163.com",
		"13912345678":       "139****5678",
		"alice@example.com": "ali***@example.com",
		"a@b.c":             "***@b.c",
		"1234567":           "*******",
	}
	for in, want := range tests {
		if got := MaskBuyer(in); got != want {
			t.Errorf("MaskBuyer(%q) = %q, want %q", in, got, want)
		}
	}
}
