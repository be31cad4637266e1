package ecrproto

// Limits checked by Validate.
const (
	MaxAmount     = 999_999_999_999 // largest amount in minor units
	maxIDLen      = 64              // id, ref, refund_ref
	maxLaneLen    = 32              // lane
	maxSubjectLen = 256             // subject, in bytes
	maxCodeLen    = 128             // barcode
	maxKeyLen     = 256             // key
)

// Validate checks m against the rules of its type and returns an *Error:
// E_FIELD naming the first offending field (a missing "type" included),
// or E_TYPE for an unknown type. Request rules are in docs/ecr-protocol.md;
// for responses it checks what every receiver relies on (EVENT has event,
// RESULT a known status, ERROR a code, EVENT and RESULT an id).
func (m *Message) Validate() error {
	if m.Type == "" {
		return FieldError("type", "required")
	}
	if err := checkFields(m); err != nil {
		return err
	}
	v := validator(m.Type)
	if v == nil {
		return Errorf(CodeType, "unknown message type %.32q", m.Type)
	}
	if err := v(m); err != nil {
		return err
	}
	return nil
}

// RequestFields returns the fields a request type uses, "type" and "id"
// included, or nil for a type that is not a request. Decoders ignore a
// request's other fields, whatever their values (docs/ecr-protocol.md
// section 3).
func RequestFields(typ string) []string {
	switch typ {
	case TypeHello:
		return []string{"type", "id", "version", "key"}
	case TypeSale:
		return []string{"type", "id", "lane", "ref", "amount", "currency", "subject", "barcode"}
	case TypeStatus, TypeCancel, TypeAbort:
		return []string{"type", "id", "lane", "ref"}
	case TypeRefund:
		return []string{"type", "id", "lane", "ref", "refund_ref", "amount", "currency"}
	case TypeScan:
		return []string{"type", "id", "lane", "barcode"}
	case TypePrint:
		return []string{"type", "id", "lane", "ref", "receipt"}
	case TypeDevices:
		return []string{"type", "id", "lane"}
	case TypePing:
		return []string{"type", "id"}
	}
	return nil
}

// validator returns the rule set of a message type, or nil.
func validator(typ string) func(*Message) *Error {
	switch typ {
	case TypeHello:
		return validateHello
	case TypeSale:
		return validateSale
	case TypeStatus:
		return func(m *Message) *Error {
			return first(id(m), lane(m), token("ref", m.Ref, maxIDLen, false))
		}
	case TypeAbort:
		return func(m *Message) *Error { return first(id(m), lane(m), token("ref", m.Ref, maxIDLen, false)) }
	case TypeCancel:
		return func(m *Message) *Error { return first(id(m), lane(m), token("ref", m.Ref, maxIDLen, true)) }
	case TypeRefund:
		return validateRefund
	case TypeScan:
		return func(m *Message) *Error { return first(id(m), lane(m), token("barcode", m.Barcode, maxCodeLen, true)) }
	case TypePrint: // no receipt: reprint the receipt of ref, or the lane's last one
		return func(m *Message) *Error { return first(id(m), lane(m), token("ref", m.Ref, maxIDLen, false)) }
	case TypeDevices:
		return func(m *Message) *Error { return first(id(m), token("lane", m.Lane, maxLaneLen, false)) }
	case TypePing:
		return id
	case TypeEvent:
		return func(m *Message) *Error { return first(id(m), required("event", m.Event)) }
	case TypeResult:
		return func(m *Message) *Error { return first(id(m), status(m.Status)) }
	case TypeError:
		return func(m *Message) *Error { return required("code", m.Code) }
	}
	return nil
}

func validateHello(m *Message) *Error {
	return first(id(m), token("version", m.Version, 16, false), maxLen("key", m.Key, maxKeyLen))
}

func validateSale(m *Message) *Error {
	return first(id(m), lane(m), token("ref", m.Ref, maxIDLen, true),
		amount("amount", m.Amount), currency(m.Currency),
		maxLen("subject", m.Subject, maxSubjectLen),
		token("barcode", m.Barcode, maxCodeLen, false))
}

func validateRefund(m *Message) *Error {
	return first(id(m), lane(m), token("ref", m.Ref, maxIDLen, true),
		token("refund_ref", m.RefundRef, maxIDLen, true),
		amount("amount", m.Amount), currency(m.Currency))
}

// LaneRule describes the lane ids Validate accepts (ValidLane), for the
// messages of other checks (the daemon's configuration).
const LaneRule = "1 to 32 characters of printable ASCII without spaces"

// ValidLane reports whether lane is a lane id Validate accepts in a
// request's "lane" field: see LaneRule.
func ValidLane(lane string) bool { return lane != "" && token("lane", lane, maxLaneLen, true) == nil }

func id(m *Message) *Error   { return token("id", m.ID, maxIDLen, true) }
func lane(m *Message) *Error { return token("lane", m.Lane, maxLaneLen, true) }

// token checks an identifier: printable ASCII without spaces, 1..max bytes.
func token(field, v string, max int, need bool) *Error {
	if v == "" {
		if need {
			return FieldError(field, "required")
		}
		return nil
	}
	if len(v) > max {
		return FieldError(field, "longer than %d characters", max)
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return FieldError(field, "only printable ASCII without spaces is allowed")
		}
	}
	return nil
}

func required(field, v string) *Error {
	if v == "" {
		return FieldError(field, "required")
	}
	return nil
}

func maxLen(field, v string, max int) *Error {
	if len(v) > max {
		return FieldError(field, "longer than %d bytes", max)
	}
	return nil
}

func amount(field string, v *int64) *Error {
	switch {
	case v == nil:
		return FieldError(field, "required")
	case *v <= 0:
		return FieldError(field, "must be greater than 0")
	case *v > MaxAmount:
		return FieldError(field, "larger than %d", int64(MaxAmount))
	}
	return nil
}

func currency(v string) *Error {
	if v == "" {
		return FieldError("currency", "required")
	}
	if len(v) != 3 || !isUpper(v[0]) || !isUpper(v[1]) || !isUpper(v[2]) {
		return FieldError("currency", "must be an ISO 4217 code such as HKD")
	}
	return nil
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func status(v string) *Error {
	switch v {
	case StatusApproved, StatusDeclined, StatusCancelled, StatusRefunded,
		StatusPending, StatusManual, StatusOK:
		return nil
	case "":
		return FieldError("status", "required")
	}
	return FieldError("status", "unknown status %.32q", v)
}

// first returns the first non-nil error as a *Error, or nil.
func first(errs ...*Error) *Error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
