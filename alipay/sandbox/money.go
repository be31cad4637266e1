package sandbox

import (
	"math/big"

	"github.com/tillbridge/tillbridge/alipay"
)

// maxMajorAmount is the largest trans_amount the gateway takes, in major
// units (reference §6.1: 0.01–100000000.00).
const maxMajorAmount = 100000000

// pow10 returns 10^n as an int64.
func pow10(n int) int64 {
	p := int64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// parseTransAmount parses a positive amount within the gateway's range.
func parseTransAmount(s, currency string) (int64, *rejection) {
	minor, err := alipay.ParseAmount(s, currency)
	if err != nil {
		return 0, reject(ErrIllegalArgument, "amount: %v", err)
	}
	if minor <= 0 || minor > maxMajorAmount*pow10(alipay.CurrencyExponent(currency)) {
		return 0, reject(ErrIllegalArgument, "amount %q out of range", s)
	}
	return minor, nil
}

// rateString renders a rate with 8 decimals, as the gateway does.
func rateString(r *big.Rat) string { return r.FloatString(8) }

// toCNY converts minor units of currency at rate (a decimal string with
// 8 decimals, as stored) to CNY fen, rounding half up.
func toCNY(minor int64, currency, rate string) int64 {
	r, ok := new(big.Rat).SetString(rate)
	if !ok {
		return 0
	}
	v := new(big.Rat).Mul(new(big.Rat).SetInt64(minor), r)
	v.Mul(v, big.NewRat(100, pow10(alipay.CurrencyExponent(currency))))
	v.Add(v, big.NewRat(1, 2))
	return new(big.Int).Quo(v.Num(), v.Denom()).Int64()
}

// formatCNY renders fen as a CNY amount; zero is "0.00".
func formatCNY(fen int64) string {
	if fen <= 0 {
		return "0.00"
	}
	s, err := alipay.FormatAmount(fen, "CNY")
	if err != nil {
		return "0.00"
	}
	return s
}

// formatMinor renders minor units of currency ("" never happens for the
// stored, validated trades; zero renders as 0 with the right decimals).
func formatMinor(minor int64, currency string) string {
	if minor <= 0 {
		if alipay.CurrencyExponent(currency) == 0 {
			return "0"
		}
		return "0.00"
	}
	s, err := alipay.FormatAmount(minor, currency)
	if err != nil {
		return ""
	}
	return s
}
