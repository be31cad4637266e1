package receipt

import (
	"strconv"
	"strings"
)

// Exponent returns the number of minor-unit digits of an ISO 4217
// currency as Alipay uses it: 0 for JPY and KRW, 2 otherwise.
func Exponent(currency string) int {
	switch strings.ToUpper(currency) {
	case "JPY", "KRW":
		return 0
	}
	return 2
}

// FormatAmount formats minor units with the currency's exponent and
// thousands separators: (123450, "EUR") → "1,234.50", (1200, "JPY") →
// "1,200".
func FormatAmount(minor int64, currency string) string {
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-minor)
	}
	digits := strconv.FormatUint(u, 10)
	exp := Exponent(currency)
	for len(digits) <= exp {
		digits = "0" + digits
	}
	intPart, frac := digits[:len(digits)-exp], digits[len(digits)-exp:]
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if exp > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// FormatMoney is FormatAmount prefixed by the currency code: "EUR 12.50".
func FormatMoney(minor int64, currency string) string {
	return strings.ToUpper(currency) + " " + FormatAmount(minor, currency)
}

// MaskBuyer returns the buyer's Alipay login for printing. Alipay already
// returns it masked ("159****5620", "abc***@163.com"); an unmasked value is
// masked here so a full phone number or e-mail never reaches paper.
func MaskBuyer(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.Contains(s, "*") {
		return s
	}
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		local := []rune(s[:at])
		keep := min(3, len(local)-1)
		return string(local[:keep]) + "***" + s[at:]
	}
	r := []rune(s)
	if len(r) <= 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}
