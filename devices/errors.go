package devices

import (
	"context"
	"errors"
	"fmt"
)

// Stable error codes carried by *DeviceError. They appear in logs, ECR
// results and diagnostics, so they never change.
const (
	CodePermission  = "permission_denied"
	CodeNotFound    = "not_found"
	CodeOffline     = "offline"
	CodeTimeout     = "timeout"
	CodeOneWay      = "one_way"
	CodeUnsupported = "unsupported"
	CodeNotReady    = "not_ready"
	CodeIO          = "io_error"
	CodeConfig      = "bad_config"
	CodeClosed      = "closed"
	CodeBusy        = "busy"
)

// DeviceError is the error type of this package and its backends. Code is a
// stable machine code; Device names the device; Err is the cause.
type DeviceError struct {
	Code   string
	Device string
	Err    error
}

// Error formats as "device: code: cause".
func (e *DeviceError) Error() string {
	msg := e.Code
	if e.Device != "" {
		msg = e.Device + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *DeviceError) Unwrap() error { return e.Err }

// Is matches any *DeviceError with the same Code, so
// errors.Is(err, devices.ErrNotFound) works whatever the device or cause.
func (e *DeviceError) Is(target error) bool {
	var t *DeviceError
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && (t.Device == "" || t.Device == e.Device)
}

// Sentinels for errors.Is; each matches any *DeviceError with its code.
var (
	ErrPermission  = &DeviceError{Code: CodePermission}
	ErrNotFound    = &DeviceError{Code: CodeNotFound}
	ErrOffline     = &DeviceError{Code: CodeOffline}
	ErrTimeout     = &DeviceError{Code: CodeTimeout}
	ErrOneWay      = &DeviceError{Code: CodeOneWay}
	ErrUnsupported = &DeviceError{Code: CodeUnsupported}
	ErrNotReady    = &DeviceError{Code: CodeNotReady}
	ErrIO          = &DeviceError{Code: CodeIO}
	ErrConfig      = &DeviceError{Code: CodeConfig}
	ErrClosed      = &DeviceError{Code: CodeClosed}
	ErrBusy        = &DeviceError{Code: CodeBusy}
)

// NewError builds a *DeviceError.
func NewError(code, device string, err error) *DeviceError {
	return &DeviceError{Code: code, Device: device, Err: err}
}

// Errorf builds a *DeviceError with a formatted cause (%w is honoured).
func Errorf(code, device, format string, args ...any) *DeviceError {
	return &DeviceError{Code: code, Device: device, Err: fmt.Errorf(format, args...)}
}

// CodeOf returns the stable code of err: the code of the first *DeviceError
// in its chain, "timeout" for a context deadline, "" for nil, else
// "io_error".
func CodeOf(err error) string {
	if err == nil {
		return ""
	}
	var de *DeviceError
	if errors.As(err, &de) {
		return de.Code
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return CodeTimeout
	}
	return CodeIO
}

// StatusError is the cause inside a "not_ready" *DeviceError: the status
// that made the printer refuse a job.
type StatusError struct {
	Status PrinterStatus
	// Err is why the status is unknown (timeout, not found...), if it is.
	Err error
}

// Error reports the status summary and detail.
func (e *StatusError) Error() string {
	msg := "printer " + e.Status.Summary()
	if e.Status.Detail != "" {
		msg += " (" + e.Status.Detail + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause of an unknown status.
func (e *StatusError) Unwrap() error { return e.Err }

// StatusOf returns the printer status carried by a "not_ready" error, so the
// daemon can tell the cashier "paper_end" rather than a generic failure.
func StatusOf(err error) (PrinterStatus, bool) {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status, true
	}
	return PrinterStatus{}, false
}
