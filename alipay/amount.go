package alipay

import (
	"fmt"
	"strconv"
	"strings"
)

// maxAmountDigits bounds the integer part so minor units never overflow int64.
const maxAmountDigits = 15

// CurrencyExponent returns the number of decimals of currency amounts on the
// gateway: 0 for JPY and KRW (reference §6.1), 2 for every other currency.
func CurrencyExponent(currency string) int {
	switch currency {
	case "JPY", "KRW":
		return 0
	}
	return 2
}

// validCurrency reports whether c is three upper-case ASCII letters.
func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// FormatAmount renders minor units as the gateway's decimal string, exactly
// and without floating point: 1250 USD → "12.50", 100 JPY → "100". It fails
// for amounts ≤ 0 and for a currency that is not three upper-case letters.
func FormatAmount(minor int64, currency string) (string, error) {
	if !validCurrency(currency) {
		return "", fmt.Errorf("alipay: format amount: bad currency code %q", currency)
	}
	if minor <= 0 {
		return "", fmt.Errorf("alipay: format amount: %d is not positive", minor)
	}
	exp := CurrencyExponent(currency)
	digits := strconv.FormatInt(minor, 10)
	if exp == 0 {
		return digits, nil
	}
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	cut := len(digits) - exp
	return digits[:cut] + "." + digits[cut:], nil
}

// ParseAmount parses a gateway decimal string into minor units. It is
// strict: the string must have exactly the currency's number of decimals
// ("12.50" for USD, "100" for JPY); "12.5", "12.345", "1e3", "-1", "+1",
// " 1", "01.00", ".50" and "" are rejected. Zero ("0.00") is accepted, since
// the gateway may report zero amounts (e.g. a discount field).
func ParseAmount(s, currency string) (int64, error) {
	if !validCurrency(currency) {
		return 0, fmt.Errorf("alipay: parse amount: bad currency code %q", currency)
	}
	exp := CurrencyExponent(currency)
	intPart, frac, hasDot := strings.Cut(s, ".")
	if exp == 0 && hasDot {
		return 0, fmt.Errorf("alipay: parse amount %q: %s takes no decimals", s, currency)
	}
	if exp > 0 && (!hasDot || len(frac) != exp) {
		return 0, fmt.Errorf("alipay: parse amount %q: %s takes exactly %d decimals", s, currency, exp)
	}
	if !allDigits(intPart) || (exp > 0 && !allDigits(frac)) {
		return 0, fmt.Errorf("alipay: parse amount %q: not a plain decimal", s)
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return 0, fmt.Errorf("alipay: parse amount %q: leading zero", s)
	}
	if len(intPart) > maxAmountDigits {
		return 0, fmt.Errorf("alipay: parse amount %q: too large", s)
	}
	v, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("alipay: parse amount %q: %w", s, err)
	}
	return v, nil
}

// allDigits reports whether s is non-empty and only ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MaskCode hides a buyer code for logs: every character but the last four
// becomes '*', keeping the length ("281234567890123456" →
// "**************3456"). Codes of four characters or fewer are masked
// entirely, so a short code is never shown in full.
func MaskCode(code string) string {
	r := []rune(code)
	keep := 4
	if len(r) <= keep {
		keep = 0
	}
	for i := 0; i < len(r)-keep; i++ {
		r[i] = '*'
	}
	return string(r)
}
