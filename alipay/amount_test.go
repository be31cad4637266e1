package alipay

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestCurrencyExponent(t *testing.T) {
	for c, want := range map[string]int{"JPY": 0, "KRW": 0, "USD": 2, "HKD": 2, "EUR": 2, "CNY": 2} {
		if got := CurrencyExponent(c); got != want {
			t.Errorf("CurrencyExponent(%s) = %d, want %d", c, got, want)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	cases := []struct {
		minor    int64
		currency string
		want     string
	}{
		{1250, "USD", "12.50"}, {1, "USD", "0.01"}, {10, "EUR", "0.10"}, {100, "HKD", "1.00"},
		{10000000000, "USD", "100000000.00"}, {100, "JPY", "100"}, {1, "KRW", "1"},
		{math.MaxInt64, "USD", "92233720368547758.07"},
	}
	for _, tc := range cases {
		got, err := FormatAmount(tc.minor, tc.currency)
		if err != nil || got != tc.want {
			t.Errorf("FormatAmount(%d, %s) = %q, %v; want %q", tc.minor, tc.currency, got, err, tc.want)
		}
	}
	for _, bad := range []struct {
		minor    int64
		currency string
	}{{0, "USD"}, {-1, "USD"}, {100, "usd"}, {100, "US"}, {100, "USDT"}, {100, ""}, {100, "U1D"}} {
		if got, err := FormatAmount(bad.minor, bad.currency); err == nil {
			t.Errorf("FormatAmount(%d, %q) = %q, want error", bad.minor, bad.currency, got)
		}
	}
}

func TestParseAmount(t *testing.T) {
	good := []struct {
		s, currency string
		want        int64
	}{
		{"12.50", "USD", 1250}, {"0.01", "USD", 1}, {"0.00", "USD", 0}, {"100000000.00", "USD", 10000000000},
		{"100", "JPY", 100}, {"0", "KRW", 0}, {"7", "KRW", 7},
	}
	for _, tc := range good {
		got, err := ParseAmount(tc.s, tc.currency)
		if err != nil || got != tc.want {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d", tc.s, tc.currency, got, err, tc.want)
		}
	}
	bad := []struct{ s, currency string }{
		{"12.5", "USD"}, {"12.345", "USD"}, {"1e3", "USD"}, {"-1", "USD"}, {"-1.00", "USD"}, {"", "USD"},
		{"12", "USD"}, {"12.", "USD"}, {".50", "USD"}, {"+1.00", "USD"}, {" 1.00", "USD"}, {"1.00 ", "USD"},
		{"01.00", "USD"}, {"1,000.00", "USD"}, {"1.0a", "USD"}, {"0x10", "USD"}, {"１.00", "USD"},
		{"100.00", "JPY"}, {"100.", "JPY"}, {"1e3", "JPY"}, {"-5", "KRW"},
		{"1.00", "usd"}, {"1.00", ""}, {strings.Repeat("9", 20) + ".00", "USD"},
	}
	for _, tc := range bad {
		if got, err := ParseAmount(tc.s, tc.currency); err == nil {
			t.Errorf("ParseAmount(%q, %q) = %d, want error", tc.s, tc.currency, got)
		}
	}
}

func TestAmountRoundTrip(t *testing.T) {
	for _, c := range []string{"USD", "JPY"} {
		for _, v := range []int64{1, 9, 10, 99, 100, 101, 12345, 999999999999} {
			s, err := FormatAmount(v, c)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseAmount(s, c)
			if err != nil || back != v {
				t.Errorf("%s %d → %q → %d, %v", c, v, s, back, err)
			}
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"12.50", "0.01", "100", "1e3", "-1", "", "01.00", "12.5"} {
		f.Add(s, "USD")
		f.Add(s, "JPY")
	}
	f.Fuzz(func(t *testing.T, s, currency string) {
		v, err := ParseAmount(s, currency)
		if err != nil {
			return
		}
		if v < 0 {
			t.Fatalf("negative %d from %q", v, s)
		}
		if v == 0 {
			return
		}
		back, err := FormatAmount(v, currency)
		if err != nil || back != s {
			t.Fatalf("round trip %q → %d → %q, %v", s, v, back, err)
		}
	})
}

func TestMaskCode(t *testing.T) {
	cases := map[string]string{
		"281234567890123456": "**************3456",
		"12345":              "*2345",
		"1234":               "****",
		"12":                 "**",
		"":                   "",
	}
	for in, want := range cases {
		if got := MaskCode(in); got != want {
			t.Errorf("MaskCode(%q) = %q, want %q", in, got, want)
		}
	}
	code := "28" + strconv.Itoa(1234567890) + "123456"
	masked := MaskCode(code)
	if strings.Contains(masked, code[:len(code)-4]) || !strings.HasSuffix(masked, code[len(code)-4:]) {
		t.Fatalf("MaskCode(%q) = %q", code, masked)
	}
}
