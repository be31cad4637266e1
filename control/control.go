// Package control is the technician control API: HTTP with JSON over a
// unix socket (mode 0600) or a named pipe (SYSTEM and Administrators only),
// separate from the ECR protocol. The daemon serves it (Serve) over a
// Backend it implements; the CLI talks to it (Client). Endpoints, all under
// /v1/:
//
//	GET  status                 StatusSnapshot
//	GET  devices                DevicesReport
//	POST print-test?lane=L      PrintTestResult
//	POST scan-test?lane=L&timeout=30s   ScanTestResult (never a payment)
//	POST gateway-check          GatewayCheckResult
//	GET  queue?state=&lane=&kind=&since=&until=&limit=   []OpView
//	GET  queue/{id}             OpDetail
//	POST queue/{id}/retry       OpView
//	POST queue/{id}/resolve     ResolveRequest → OpView
//	GET  journal/export?from=&to=&format=csv|json   the journal's export, streamed
//	GET  support-bundle         a zip, streamed
//	GET  receipt?lane=L&ref=R   SaleReceipt: a journaled sale's receipt
//	GET  reconcile              recon.JobStatus: the daily reconciliation
//	POST console/token          ConsoleLogin: a one-time browser console link
//
// Errors are JSON Error bodies with a stable code. The package knows
// nothing of the daemon: it declares what it needs (Backend, Journal), and
// a test keeps it from importing the daemon package.
package control

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tillbridge/tillbridge/queue"
)

// Control API defaults.
const (
	// SocketName is the control socket's file name in the data directory
	// when [control] socket is not set.
	SocketName = "control.sock"
	// DefaultPipe is the control pipe on Windows.
	DefaultPipe = `\\.\pipe\tillbridge-control`
	// DefaultScanTestTimeout and MaxScanTestTimeout bound a scan test.
	DefaultScanTestTimeout = 30 * time.Second
	// MaxScanTestTimeout is the longest scan test the API accepts.
	MaxScanTestTimeout = 5 * time.Minute
)

// DefaultAddress is the control address of a daemon whose data directory
// is dataDir and whose config sets no [control] socket: DATA/control.sock,
// or the default pipe on Windows.
func DefaultAddress(dataDir string) string {
	if runtime.GOOS == "windows" {
		return DefaultPipe
	}
	return filepath.Join(dataDir, SocketName)
}

// Stable error codes of the control API.
const (
	CodeNotFound    = "not_found"    // no such lane or operation
	CodeInvalid     = "invalid"      // a bad parameter
	CodeState       = "state"        // not possible in the operation's or lane's state
	CodeStarting    = "starting"     // the daemon is still starting (or stopping)
	CodeUnsupported = "unsupported"  // this daemon cannot do it (e.g. no scanner)
	CodeBusy        = "busy"         // the lane is busy (a sale or another test)
	CodeInternal    = "internal"     // anything else; details are in the daemon's log
	CodeUnavailable = "unavailable"  // a device or the journal could not be used
	CodeTimeout     = "timeout"      // nothing happened in time
	CodeNoDaemon    = "not_running"  // client side: no daemon answers
	CodeBadAnswer   = "bad_response" // client side: the answer could not be read
)

// Daemon states in a StatusSnapshot.
const (
	DaemonStarting = "starting"
	DaemonReady    = "ready"
	DaemonStopping = "stopping"
	// DaemonNotRunning is the state of an offline backend's snapshot.
	DaemonNotRunning = "not running"
)

// Gateway check verdicts (GatewayCheckResult.Verdict).
const (
	VerdictOK           = "ok"
	VerdictKeyMismatch  = "key_mismatch"
	VerdictBadAnswerSig = "bad_answer_signature"
	VerdictPartner      = "partner"
	VerdictNoPrivilege  = "no_privilege"
	VerdictNetwork      = "network"
	VerdictTimeout      = "timeout"
	VerdictTLS          = "tls"
	VerdictHTTP         = "http"
	VerdictNotGateway   = "not_gateway"
	VerdictGatewayError = "gateway_error"
	VerdictClockSkew    = "clock_skew"
	VerdictConfig       = "config"
	VerdictUnknown      = "unknown"
)

// Error is an error the control API answers with, and the error the
// Client returns for it. Code is one of the Code constants.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"error"`
}

// Error returns the daemon's message.
func (e *Error) Error() string { return e.Message }

// Is matches another *Error with the same code, so callers can test
// errors.Is(err, &Error{Code: CodeNotFound}).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf builds a *Error with a code and a message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrStarting is returned by backend calls before the daemon is ready.
var ErrStarting = &Error{Code: CodeStarting, Message: "tillbridge is starting (or stopping); try again in a moment"}

// asError turns any error into a *Error: control errors as
// they are, the journal's typed errors by their meaning, anything else
// internal.
func asError(err error) *Error {
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	var (
		invalid *queue.InvalidError
		state   *queue.StateError
	)
	switch {
	case errors.Is(err, queue.ErrNotFound):
		return Errorf(CodeNotFound, "no such operation")
	case errors.As(err, &invalid):
		return Errorf(CodeInvalid, "%s: %s", invalid.Field, invalid.Reason)
	case errors.As(err, &state):
		return Errorf(CodeState, "cannot %s operation %s (state %s): %s", state.Action, state.OpID,
			state.State, state.Reason)
	case errors.Is(err, queue.ErrClosed):
		return ErrStarting
	case errors.Is(err, context.DeadlineExceeded):
		return Errorf(CodeTimeout, "timed out")
	}
	return Errorf(CodeInternal, "internal error (see the daemon's log)")
}
