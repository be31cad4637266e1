package ecrproto

import (
	"errors"
	"fmt"
)

// Error codes carried in the code field of an ERROR message. They are
// stable: ECR software may switch on them.
const (
	CodeFormat      = "E_FORMAT"       // not a well-formed message: bad JSON, bad frame payload, bad UTF-8
	CodeTooLarge    = "E_TOO_LARGE"    // the message exceeds the size limit
	CodeType        = "E_TYPE"         // unknown or non-request message type
	CodeField       = "E_FIELD"        // a field is missing or malformed; field names it
	CodeRefConflict = "E_REF_CONFLICT" // lane+ref already used with different fields
	CodeLaneBusy    = "E_LANE_BUSY"    // another sale is in flight on the lane
	CodeNotFound    = "E_NOT_FOUND"    // no such lane, sale or refund
	CodeUnavailable = "E_UNAVAILABLE"  // not ready, shutting down, overloaded, or a device is down
	CodeInternal    = "E_INTERNAL"     // a bug or unexpected failure in the daemon
	CodeAuth        = "E_AUTH"         // remote access requires HELLO with the shared key
)

// Error is a protocol error: the answer the peer gets as an ERROR message.
// Decoders, Validate and the server return *Error for anything that is the
// peer's fault, so callers can use errors.As and send it back verbatim.
type Error struct {
	Code    string // one of the Code* constants
	Field   string // the offending field, for E_FIELD
	Message string // human-readable detail, safe to show to a cashier
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("ecrproto: %s (%s): %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("ecrproto: %s: %s", e.Code, e.Message)
}

// Reply returns the ERROR message that reports e to the peer, answering
// req (which may be nil or partly decoded: its id, lane and ref are echoed
// when known, each cut to MaxEcho bytes).
func (e *Error) Reply(req *Message) *Message {
	m := &Message{Type: TypeError, Code: e.Code, Field: clip(e.Field), Message: e.Message}
	if req != nil {
		m.ID, m.Lane, m.Ref = clip(req.ID), clip(req.Lane), clip(req.Ref)
	}
	return m
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an E_FIELD *Error naming field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: CodeField, Field: field, Message: fmt.Sprintf(format, args...)}
}

// AsError reports the *Error inside err, or wraps any other error as an
// E_INTERNAL error with a generic message (details belong in the log, not
// on the wire).
func AsError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Code: CodeInternal, Message: "internal error"}
}

// Sentinel errors returned by the server, client, links and listeners.
var (
	// ErrServerClosed is returned by Serve after Shutdown or Close.
	ErrServerClosed = errors.New("ecrproto: server closed")
	// ErrClientClosed is returned by Client methods after Close or after
	// the connection broke.
	ErrClientClosed = errors.New("ecrproto: client closed")
	// ErrResponseDone is returned by ResponseWriter.Send after the final
	// RESULT or ERROR for the request has been sent.
	ErrResponseDone = errors.New("ecrproto: final response already sent")
	// ErrNoAck is returned when a frame was not acknowledged after all
	// retransmissions; the link is considered dead.
	ErrNoAck = errors.New("ecrproto: frame not acknowledged")
	// ErrBadLRC is returned by FrameReader for a frame whose LRC does not
	// match; the receiver answers NAK.
	ErrBadLRC = errors.New("ecrproto: frame LRC mismatch")
	// ErrRemoteNotAllowed is returned by Listen for a non-loopback TCP
	// address without AllowRemote and a SharedKey.
	ErrRemoteNotAllowed = errors.New("ecrproto: non-loopback address needs AllowRemote and a SharedKey")
	// ErrKeyTooShort is returned by Listen for a SharedKey shorter than
	// MinKeyLen.
	ErrKeyTooShort = errors.New("ecrproto: the shared key is shorter than 16 characters")
	// ErrSlowReader is returned by ResponseWriter.Send when the peer does
	// not read its answers: more than ServerOptions.MaxOutput bytes were
	// waiting to be sent. The server closes the connection.
	ErrSlowReader = errors.New("ecrproto: the peer is not reading; answers waiting exceed the bound")
	// ErrAddrInUse is returned by Listen when a live server already
	// answers on the unix socket path or pipe.
	ErrAddrInUse = errors.New("ecrproto: address in use by a live server")
)

// LinkError reports a framed transmission that failed after Attempts
// transmissions. It wraps ErrNoAck (or the I/O error that ended it).
type LinkError struct {
	Attempts int
	Err      error
}

// Error implements error.
func (e *LinkError) Error() string {
	return fmt.Sprintf("ecrproto: frame sent %d times: %v", e.Attempts, e.Err)
}

// Unwrap returns the underlying error.
func (e *LinkError) Unwrap() error { return e.Err }

// ListenError reports why Listen could not open a listener.
type ListenError struct {
	Network string
	Address string
	Err     error
}

// Error implements error.
func (e *ListenError) Error() string {
	return fmt.Sprintf("ecrproto: listen %s %s: %v", e.Network, e.Address, e.Err)
}

// Unwrap returns the underlying error.
func (e *ListenError) Unwrap() error { return e.Err }
