package alipay

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Service names (reference §1).
const (
	ServicePay    = "alipay.acquire.overseas.spot.pay"
	ServiceQuery  = "alipay.acquire.overseas.query"
	ServiceCancel = "alipay.acquire.cancel"
	ServiceRefund = "alipay.acquire.overseas.spot.refund"
)

// Limits from the reference (§6.1, §9.1).
const (
	maxIDLen        = 64
	maxTransNameLen = 256
	maxReasonLen    = 128
	// maxMajorAmount is the largest trans_amount in major units
	// (100000000.00).
	maxMajorAmount = 100_000_000
)

// checkValue rejects values the gateway forbids (reference §2.2): a
// half-width double quote, the literal "null", or invalid UTF-8.
func checkValue(field, v string) error {
	switch {
	case strings.ContainsRune(v, '"'):
		return &InvalidRequestError{Field: field, Reason: `contains a double quote (")`}
	case v == "null":
		return &InvalidRequestError{Field: field, Reason: `is the literal "null"`}
	case !utf8.ValidString(v):
		return &InvalidRequestError{Field: field, Reason: "is not valid UTF-8"}
	}
	return nil
}

// checkParams runs checkValue over every parameter except the JSON-valued
// extend_info, whose fields ExtendInfo.JSON already checked.
func checkParams(params map[string]string) error {
	keys := slices.Sorted(maps.Keys(params))
	for _, k := range keys {
		if k == "extend_info" {
			continue
		}
		if err := checkValue(k, params[k]); err != nil {
			return err
		}
	}
	return nil
}

// checkID validates a merchant identifier (partner_trans_id,
// partner_refund_id): 1–64 characters, printable ASCII without spaces.
func checkID(field, id string) error {
	if id == "" {
		return &InvalidRequestError{Field: field, Reason: "required"}
	}
	if len(id) > maxIDLen {
		return &InvalidRequestError{Field: field, Reason: "longer than 64 characters"}
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' || id[i] == '"' {
			return &InvalidRequestError{Field: field, Reason: "only printable ASCII without spaces or quotes"}
		}
	}
	return nil
}

// checkBuyerCode validates a scanned dynamic code: 16–24 digits starting
// with 25–30 (reference §6.1). The error never holds the code itself.
func checkBuyerCode(code string) error {
	if len(code) < 16 || len(code) > 24 || !allDigits(code) {
		return &InvalidRequestError{Field: "buyer_identity_code", Reason: "must be 16-24 digits"}
	}
	if p := code[:2]; p < "25" || p > "30" {
		return &InvalidRequestError{Field: "buyer_identity_code", Reason: "must start with 25-30"}
	}
	return nil
}

// amountParam formats an amount for field, enforcing the gateway's range.
func amountParam(field string, minor int64, currency string) (string, error) {
	if !validCurrency(currency) {
		return "", &InvalidRequestError{Field: "currency", Reason: "must be three upper-case letters"}
	}
	limit := int64(maxMajorAmount)
	for i := 0; i < CurrencyExponent(currency); i++ {
		limit *= 10
	}
	if minor <= 0 || minor > limit {
		return "", &InvalidRequestError{Field: field, Reason: "must be between one minor unit and 100000000.00"}
	}
	s, err := FormatAmount(minor, currency)
	if err != nil {
		return "", &InvalidRequestError{Field: field, Reason: err.Error()}
	}
	return s, nil
}

// checkText validates a free-text field of at most max characters.
func checkText(field, v string, required bool, max int) error {
	if v == "" && required {
		return &InvalidRequestError{Field: field, Reason: "required"}
	}
	if utf8.RuneCountInString(v) > max {
		return &InvalidRequestError{Field: field, Reason: "too long"}
	}
	return nil
}

// encodeForm renders params as an application/x-www-form-urlencoded body,
// each value percent-encoded from its bytes in charset, keys sorted, empty
// values left out.
func encodeForm(params map[string]string, charset string) (string, error) {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(params)) {
		v := params[k]
		if v == "" {
			continue
		}
		enc, err := EncodeCharset(v, charset)
		if err != nil {
			return "", &InvalidRequestError{Field: k, Reason: "cannot be encoded in " + charset}
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(string(enc)))
	}
	return b.String(), nil
}

// endpoint returns the gateway URL with _input_charset in its query, as the
// docs require for POST (reference §2.2).
func endpoint(gateway, charset string) (string, error) {
	u, err := url.Parse(gateway)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("_input_charset", charset)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
