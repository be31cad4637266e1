package ecrproto

import (
	"strconv"
	"unicode/utf8"
)

// fieldSpec describes one wire field: its name (the JSON key and the frame
// field name) and where it lives in a Message. Exactly one of str and num
// is set.
type fieldSpec struct {
	name string
	str  func(*Message) *string
	num  func(*Message) **int64
}

// fieldTable lists every field in wire order. It is read-only.
var fieldTable = [...]fieldSpec{
	{name: "type", str: func(m *Message) *string { return &m.Type }},
	{name: "id", str: func(m *Message) *string { return &m.ID }},
	{name: "lane", str: func(m *Message) *string { return &m.Lane }},
	{name: "ref", str: func(m *Message) *string { return &m.Ref }},
	{name: "amount", num: func(m *Message) **int64 { return &m.Amount }},
	{name: "currency", str: func(m *Message) *string { return &m.Currency }},
	{name: "subject", str: func(m *Message) *string { return &m.Subject }},
	{name: "barcode", str: func(m *Message) *string { return &m.Barcode }},
	{name: "refund_ref", str: func(m *Message) *string { return &m.RefundRef }},
	{name: "event", str: func(m *Message) *string { return &m.Event }},
	{name: "status", str: func(m *Message) *string { return &m.Status }},
	{name: "reason", str: func(m *Message) *string { return &m.Reason }},
	{name: "message", str: func(m *Message) *string { return &m.Message }},
	{name: "alipay_trans_id", str: func(m *Message) *string { return &m.AlipayTransID }},
	{name: "buyer", str: func(m *Message) *string { return &m.Buyer }},
	{name: "amount_cny", num: func(m *Message) **int64 { return &m.AmountCNY }},
	{name: "exchange_rate", str: func(m *Message) *string { return &m.ExchangeRate }},
	{name: "paid_at", str: func(m *Message) *string { return &m.PaidAt }},
	{name: "receipt", str: func(m *Message) *string { return &m.Receipt }},
	{name: "code", str: func(m *Message) *string { return &m.Code }},
	{name: "field", str: func(m *Message) *string { return &m.Field }},
	{name: "dup_id", str: func(m *Message) *string { return &m.DupID }},
	{name: "version", str: func(m *Message) *string { return &m.Version }},
	{name: "key", str: func(m *Message) *string { return &m.Key }},
}

// maxAmountDigits bounds an amount's digits so it always fits an int64.
const maxAmountDigits = 18

// lookupField returns the field named name, or nil for an unknown name.
func lookupField(name string) (int, *fieldSpec) {
	for i := range fieldTable {
		if fieldTable[i].name == name {
			return i, &fieldTable[i]
		}
	}
	return -1, nil
}

// text returns the field's value as wire text (an amount as decimal
// digits) and whether it is present.
func (f *fieldSpec) text(m *Message) (string, bool) {
	if f.num != nil {
		p := *f.num(m)
		if p == nil {
			return "", false
		}
		return itoa(*p), true
	}
	s := *f.str(m)
	return s, s != ""
}

// setText sets the field from wire text (a frame value). Amounts are
// decimal digits; leading zeros are allowed.
func (f *fieldSpec) setText(m *Message, v string) *Error {
	if f.num == nil {
		if err := checkText(f.name, v); err != nil {
			return err
		}
		*f.str(m) = v
		return nil
	}
	if v == "" {
		return nil
	}
	n, err := parseDigits(f.name, v)
	if err != nil {
		return err
	}
	*f.num(m) = &n
	return nil
}

// checkText enforces the value rules shared by both encodings: valid UTF-8
// and no control characters other than TAB, LF and CR.
func checkText(name, v string) *Error {
	if !utf8.ValidString(v) {
		return FieldError(name, "not valid UTF-8")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return FieldError(name, "control character 0x%02X not allowed", c)
		}
	}
	return nil
}

// parseDigits parses a non-negative integer written as ASCII digits only.
func parseDigits(name, v string) (int64, *Error) {
	if v == "" || len(v) > maxAmountDigits {
		return 0, FieldError(name, "must be an integer of 1 to %d digits in minor units", maxAmountDigits)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, FieldError(name, "must be a non-negative integer in minor units (digits only)")
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, FieldError(name, "out of range")
	}
	return n, nil
}

// checkFields checks every present value of m against the encoding rules,
// so a message that encodes in one encoding encodes in the other.
func checkFields(m *Message) *Error {
	for i := range fieldTable {
		f := &fieldTable[i]
		if f.num != nil {
			if p := *f.num(m); p != nil && *p < 0 {
				return FieldError(f.name, "must not be negative")
			}
			continue
		}
		if err := checkText(f.name, *f.str(m)); err != nil {
			return err
		}
	}
	return nil
}

// fieldErr is a field's decoding error, with the field's index in
// fieldTable.
type fieldErr struct {
	index int
	err   *Error
}

// settle finishes decoding m: a request ignores the fields its type does
// not use (they are cleared, and their errors dropped), as it ignores
// unknown keys; any other message (an answer, an unknown type) keeps them
// all. It returns the first error of a field that counts, or nil.
func settle(m *Message, errs []fieldErr) error {
	used, ok := usedFields(m.Type)
	if !ok {
		if len(errs) > 0 {
			return errs[0].err
		}
		return nil
	}
	for i := range fieldTable {
		if used&(1<<i) != 0 {
			continue
		}
		if f := &fieldTable[i]; f.num != nil {
			*f.num(m) = nil
		} else {
			*f.str(m) = ""
		}
	}
	for _, e := range errs {
		if used&(1<<e.index) != 0 {
			return e.err
		}
	}
	return nil
}

// usedFields returns the set of fields (bits by fieldTable index) a
// request type uses, and false for any other type.
func usedFields(typ string) (uint32, bool) {
	names := RequestFields(typ)
	if names == nil {
		return 0, false
	}
	var set uint32
	for _, n := range names {
		if i, _ := lookupField(n); i >= 0 {
			set |= 1 << i
		}
	}
	return set, true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
