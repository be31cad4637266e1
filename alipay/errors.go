package alipay

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadSignature reports a signature that does not verify: a tampered
// message, a wrong key, or an undecodable signature value.
var ErrBadSignature = errors.New("alipay: bad signature")

// ErrMissingSignature reports an is_success=T response or a notification
// without a sign value.
var ErrMissingSignature = errors.New("alipay: missing signature")

// ErrNoKey reports a Signer asked to sign without a private key, or to verify
// without a public key.
var ErrNoKey = errors.New("alipay: no key configured for this operation")

// ErrBodyTooLarge reports a gateway response larger than the client's cap.
var ErrBodyTooLarge = errors.New("alipay: response body too large")

// TransportError reports a failure to send the request or read the answer:
// connection refused or reset, DNS, TLS, a timeout or a cancelled context.
// The request may or may not have reached the gateway.
type TransportError struct {
	// Op names the step that failed ("send", "read").
	Op string
	// Timeout is true when the client timeout or the context deadline expired.
	Timeout bool
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *TransportError) Error() string {
	if e.Timeout {
		return fmt.Sprintf("alipay: %s: timeout: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("alipay: %s: %v", e.Op, e.Err)
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// HTTPStatusError reports an HTTP answer whose status is not 200.
type HTTPStatusError struct {
	// StatusCode is the HTTP status code received.
	StatusCode int
}

// Error implements error.
func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("alipay: gateway answered HTTP %d", e.StatusCode)
}

// MalformedError reports a response body that is not a well-formed gateway
// envelope: not XML, truncated, an unknown encoding, or missing is_success.
type MalformedError struct {
	// Reason says what was wrong.
	Reason string
	// Err is the underlying parse error, if any.
	Err error
}

// Error implements error.
func (e *MalformedError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("alipay: malformed response: %s: %v", e.Reason, e.Err)
	}
	return "alipay: malformed response: " + e.Reason
}

// Unwrap returns the underlying error.
func (e *MalformedError) Unwrap() error { return e.Err }

// GatewayError reports an is_success=F envelope: the gateway (or whatever
// answered in its name) says it rejected the request itself (ILLEGAL_SIGN,
// ILLEGAL_PARTNER, …). Code is the <error> value; it is empty when the
// envelope carried none. Such answers are never signed (reference §5.2),
// so the outcome of the call is always Unknown (see Classify); the error
// text names what a technician should check.
type GatewayError struct {
	// Code is the gateway's error code.
	Code string
}

// Error implements error. For ILLEGAL_SIGN it reads "alipay: gateway
// refused the signature: check keys (…)".
func (e *GatewayError) Error() string {
	if hint := gatewayHint(e.Code); hint != "" {
		return "alipay: " + hint + " (" + e.Code + "; unsigned answer, outcome unknown)"
	}
	return "alipay: gateway rejected the request: " + e.Code + " (unsigned answer, outcome unknown)"
}

// gatewayHint says what to check for a gateway-level refusal code; "" for
// codes without one.
func gatewayHint(code string) string {
	switch code {
	case "ILLEGAL_SIGN":
		return "gateway refused the signature: check keys (sign_type and the MD5 key or merchant " +
			"private key must be the ones Alipay holds for this partner)"
	case "ILLEGAL_SIGN_TYPE":
		return "gateway refused the sign type: check keys and sign_type"
	case "ILLEGAL_PARTNER":
		return "gateway does not know the partner: check the partner id and that the gateway URL is " +
			"the right environment"
	case "ILLEGAL_SERVICE", "ILLEGAL_EXTERFACE", "ILLEGAL_PARTNER_EXTERFACE", "HAS_NO_PRIVILEGE":
		return "gateway refused the service for this partner: check the Alipay contract"
	case "ILLEGAL_CHARSET", "ILLEGAL_ENCODING":
		return "gateway refused the request's encoding: check the charset setting"
	}
	return ""
}

// InvalidRequestError reports a request the client refuses to send (a bad
// amount, a double quote in a value, a missing identifier). Nothing was sent.
type InvalidRequestError struct {
	// Field is the request parameter at fault.
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *InvalidRequestError) Error() string {
	return fmt.Sprintf("alipay: invalid request: %s: %s", e.Field, e.Reason)
}

// ConfigError reports an invalid Config field.
type ConfigError struct {
	// Field is the Config field at fault.
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("alipay: config: %s: %s", e.Field, e.Reason)
}

// MismatchError reports a verified answer whose echo of the request does
// not match what was sent (another trade's answer, a replay, a different
// amount). The outcome is Unknown.
type MismatchError struct {
	// Field is the echoed parameter.
	Field string
	// Sent is the value in the request.
	Sent string
	// Got is the value in the answer.
	Got string
}

// Error implements error.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("alipay: answer echoes %s=%q, request had %q", e.Field, e.Got, e.Sent)
}

// scrubbedError is an error whose text quoted the buyer code, with the code
// masked; Unwrap gives the original, so errors.Is and errors.As still work.
type scrubbedError struct {
	err  error
	code string
}

// Error implements error.
func (e *scrubbedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.code, MaskCode(e.code))
}

// Unwrap returns the original error.
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubCode masks the buyer code wherever a pay call's answer or error
// quotes it: a broken answer that echoes the request can put it into an
// XML parser's message ("invalid XML name: 2812…") or an error code field,
// and from there into the log and the journal. Classification is not
// affected: a buyer code is never a code the client acts on.
func scrubCode(d Detail, err error, code string) (Detail, error) {
	if code == "" {
		return d, err
	}
	mask := MaskCode(code)
	fix := func(s *string) { *s = strings.ReplaceAll(*s, code, mask) }
	fix(&d.GatewayError)
	fix(&d.ResultCode)
	fix(&d.Error)
	fix(&d.DetailErrorCode)
	fix(&d.RetryFlag)
	for k, v := range d.Fields { // d.Fields is the client's own copy
		if strings.Contains(v, code) {
			d.Fields[k] = strings.ReplaceAll(v, code, mask)
		}
	}
	if err != nil && strings.Contains(err.Error(), code) {
		err = &scrubbedError{err: err, code: code}
	}
	return d, err
}
