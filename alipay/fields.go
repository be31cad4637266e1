package alipay

import (
	"strings"
	"time"
)

// Time layouts of the gateway.
const (
	layoutCompact = "20060102150405"
	layoutDashed  = "2006-01-02 15:04:05"
)

// gmt8 is Beijing time, the gateway's clock (UNCONFIRMED for
// alipay_pay_time and trans_create_time; see docs/alipay-client.md).
func gmt8() *time.Location { return time.FixedZone("GMT+8", 8*60*60) }

// parsePayTime reads alipay_pay_time (yyyyMMddHHmmss, or the dashed form)
// in GMT+8; the zero time when absent or unparseable.
func parsePayTime(s string) time.Time {
	for _, layout := range []string{layoutCompact, layoutDashed} {
		if t, err := time.ParseInLocation(layout, s, gmt8()); err == nil {
			return t
		}
	}
	return time.Time{}
}

// parseAnswerAmount reads an amount from an answer, exactly but more
// tolerantly than ParseAmount: fewer decimals ("12.5") or extra zero
// decimals ("100.00" for JPY) are accepted, since they denote one exact
// value. Anything else gives 0 (the raw text stays in Detail.Fields).
func parseAnswerAmount(s, currency string) int64 {
	v, err := ParseAmount(normaliseAmount(s, CurrencyExponent(currency)), currency)
	if err != nil {
		return 0
	}
	return v
}

// normaliseAmount pads or trims zero decimals of s to exp places; it
// returns s unchanged when that would lose a non-zero digit.
func normaliseAmount(s string, exp int) string {
	intPart, frac, _ := strings.Cut(s, ".")
	if len(frac) > exp {
		if strings.Trim(frac[exp:], "0") != "" {
			return s
		}
		frac = frac[:exp]
	}
	frac += strings.Repeat("0", exp-len(frac))
	if exp == 0 {
		return intPart
	}
	return intPart + "." + frac
}

// echo checks that a verified answer's field, when present, equals sent.
func echo(d Detail, field, sent string) error {
	got, ok := d.Fields[field]
	if !ok || got == "" || got == sent {
		return nil
	}
	return &MismatchError{Field: field, Sent: sent, Got: got}
}

// echoAmount checks that an answer's amount field, when present and
// readable in the same currency, equals the requested minor units.
func echoAmount(d Detail, field string, sent int64, currency string) error {
	raw, ok := d.Fields[field]
	if !ok || raw == "" {
		return nil
	}
	if c := d.Fields["currency"]; c != "" && c != currency {
		return nil // reported by the currency echo
	}
	got := parseAnswerAmount(raw, currency)
	if got == sent {
		return nil
	}
	want, _ := FormatAmount(sent, currency)
	return &MismatchError{Field: field, Sent: want, Got: raw}
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
