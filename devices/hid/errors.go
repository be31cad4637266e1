package hid

import "errors"

// Stable error codes carried by *Error.
const (
	// CodeShortReport: a report too short to hold its fixed fields.
	CodeShortReport = "short_report"
	// CodeBadReport: a report whose fields contradict each other, for
	// example a data length larger than the report.
	CodeBadReport = "bad_report"
	// CodeTooLong: a scan longer than the decoder's limit; it was dropped.
	CodeTooLong = "scan_too_long"
	// CodeUnknownLayout: a keyboard layout name this package does not know.
	CodeUnknownLayout = "unknown_layout"
	// CodeUnencodable: text that the layout cannot type (Layout.Reports).
	CodeUnencodable = "unencodable"
	// CodeBadDescriptor: a malformed HID report descriptor.
	CodeBadDescriptor = "bad_descriptor"
)

// Error is the error type of this package: a stable Code and a detail.
type Error struct {
	Code   string
	Detail string
}

// Error formats as "hid: code: detail".
func (e *Error) Error() string {
	if e.Detail == "" {
		return "hid: " + e.Code
	}
	return "hid: " + e.Code + ": " + e.Detail
}

// Is matches any *Error with the same Code, so errors.Is(err, ErrTooLong)
// works whatever the detail.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrShortReport   = &Error{Code: CodeShortReport}
	ErrBadReport     = &Error{Code: CodeBadReport}
	ErrTooLong       = &Error{Code: CodeTooLong}
	ErrUnknownLayout = &Error{Code: CodeUnknownLayout}
	ErrUnencodable   = &Error{Code: CodeUnencodable}
	ErrBadDescriptor = &Error{Code: CodeBadDescriptor}
)

func newError(code, detail string) *Error { return &Error{Code: code, Detail: detail} }
