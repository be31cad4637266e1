package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/queue"
)

// The technician control API: HTTP with JSON over a unix socket (mode 0600)
// or a named pipe (SYSTEM and Administrators only), separate from the ECR
// protocol. The daemon serves it (ServeControl), the CLI talks to it
// (ControlClient). Endpoints, all under /v1/:
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
//
// Errors are JSON ControlError bodies with a stable code.

// Control API defaults.
const (
	// ControlSocketName is the control socket's file name in the data
	// directory when [control] socket is not set.
	ControlSocketName = "control.sock"
	// DefaultControlPipe is the control pipe on Windows.
	DefaultControlPipe = `\\.\pipe\tillbridge-control`
	// DefaultScanTestTimeout and MaxScanTestTimeout bound a scan test.
	DefaultScanTestTimeout = 30 * time.Second
	MaxScanTestTimeout     = 5 * time.Minute
)

// ControlAddress is where the control API listens for cfg: [control]
// socket when set, else DATA/control.sock (or the default pipe on Windows).
func ControlAddress(cfg *Config) string {
	if cfg.Control.Socket != "" {
		return cfg.Control.Socket
	}
	return DefaultControlAddress(cfg.Daemon.DataDir)
}

// DefaultControlAddress is the control address of a daemon whose data
// directory is dataDir and whose config sets no [control] socket.
func DefaultControlAddress(dataDir string) string {
	if runtime.GOOS == "windows" {
		return DefaultControlPipe
	}
	return filepath.Join(dataDir, ControlSocketName)
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
)

// ControlError is an error the control API answers with, and the error the
// ControlClient returns for it. Code is one of the Code constants.
type ControlError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"error"`
}

// Error returns the daemon's message.
func (e *ControlError) Error() string { return e.Message }

// Is matches another *ControlError with the same code, so callers can test
// errors.Is(err, &ControlError{Code: CodeNotFound}).
func (e *ControlError) Is(target error) bool {
	t, ok := target.(*ControlError)
	return ok && t.Code == e.Code
}

// controlErrorf builds a *ControlError.
func controlErrorf(code, format string, args ...any) *ControlError {
	return &ControlError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrStarting is returned by backend calls before the daemon is ready.
var ErrStarting = &ControlError{Code: CodeStarting, Message: "tillbridge is starting (or stopping); try again in a moment"}

// ControlBackend is what the control API needs from the daemon. *Daemon
// implements it (daemon/control_backend.go); every method is safe to call
// concurrently, and returns ErrStarting before the daemon is ready.
type ControlBackend interface {
	// Snapshot reports the daemon's state; the server adds the gateway
	// health and the verdict.
	Snapshot(ctx context.Context) (StatusSnapshot, error)
	// Journal returns the journal engine once the daemon is ready.
	Journal() (*queue.Engine, error)
	// Devices reports the configured devices' state and what discovery finds.
	Devices(ctx context.Context) (DevicesReport, error)
	// PrintTest prints a test page on the lane's printer.
	PrintTest(ctx context.Context, lane string) (PrintTestResult, error)
	// ScanTest waits up to timeout for one scan on the lane's scanner and
	// reports it masked; it never starts a payment.
	ScanTest(ctx context.Context, lane string, timeout time.Duration) (ScanTestResult, error)
	// GatewayCheck queries a trade that does not exist.
	GatewayCheck(ctx context.Context) (GatewayCheckResult, error)
	// SaleReceipt is the receipt of a journaled sale (lane "" for the
	// only lane), as the daemon prints it.
	SaleReceipt(ctx context.Context, lane, ref string) (SaleReceipt, error)
	// RedactedConfig is the running configuration without secrets.
	RedactedConfig() *Config
	// Secrets lists every configured secret (keys, shared keys), for the
	// support bundle's redaction pass. They never leave the daemon.
	Secrets() []string
	// LogFile is the daemon's log file ("" when it logs to the console only).
	LogFile() string
}

// StatusSnapshot is what `tillbridge status` shows.
type StatusSnapshot struct {
	Version string    `json:"version"`
	GoOS    string    `json:"os"`
	State   string    `json:"state"` // starting, ready or stopping
	Started time.Time `json:"started,omitzero"`
	// UptimeSeconds is the time since Run began.
	UptimeSeconds int64    `json:"uptime_s"`
	DataDir       string   `json:"data_dir"`
	ECR           []string `json:"ecr_listeners"`
	Control       string   `json:"control"`
	// Service is what the service manager says; the CLI fills it.
	Service  *ServiceView  `json:"service,omitempty"`
	Lanes    []LaneStatus  `json:"lanes"`
	Gateway  GatewayHealth `json:"gateway"`
	Queue    QueueCounts   `json:"queue"`
	Healthy  bool          `json:"healthy"`
	Problems []string      `json:"problems"`
	Warnings []string      `json:"warnings"`

	// Reconcile is the daily reconciliation's latest result (nil when off).
	Reconcile *ReconStatus `json:"reconcile,omitempty"`
}

// ServiceView is the service manager's view of the installed service.
type ServiceView struct {
	State    string `json:"state"`
	Detail   string `json:"detail,omitempty"`
	Restarts int    `json:"restarts"`
	Error    string `json:"error,omitempty"`
}

// LaneStatus is one lane in a StatusSnapshot.
type LaneStatus struct {
	ID         string               `json:"id"`
	TerminalID string               `json:"terminal_id"`
	Sale       *LaneSale            `json:"sale,omitempty"`
	Printer    *PrinterHealth       `json:"printer,omitempty"`
	Scanner    *devices.DeviceState `json:"scanner,omitempty"`
}

// LaneSale is the sale in flight on a lane.
type LaneSale struct {
	Ref      string    `json:"ref"`
	OpID     string    `json:"op_id"`
	State    string    `json:"state"`
	Amount   int64     `json:"amount"`
	Currency string    `json:"currency"`
	Since    time.Time `json:"since,omitzero"`
}

// PrinterHealth is a printer's status in a snapshot or a print test.
type PrinterHealth struct {
	Name   string `json:"name"`
	State  string `json:"state"` // a devices.Status* summary code
	Ready  bool   `json:"ready"`
	OneWay bool   `json:"one_way"`
	Detail string `json:"detail,omitempty"`
}

// GatewayHealth is what the daemon last heard from the gateway, from the
// journal's calls and the last gateway check.
type GatewayHealth struct {
	URL      string `json:"url"`
	Partner  string `json:"partner"`
	SignType string `json:"sign_type"`
	// Reachable is "yes" (the last call was answered), "no" (the last call
	// failed) or "unknown" (no call since start).
	Reachable   string    `json:"reachable"`
	LastOK      time.Time `json:"last_ok,omitzero"`
	LastOKCall  string    `json:"last_ok_call,omitempty"`
	LastFail    time.Time `json:"last_failure,omitzero"`
	LastFailMsg string    `json:"last_failure_reason,omitempty"`
	LastCode    string    `json:"last_failure_code,omitempty"`
}

// QueueCounts are the journal's operations by state.
type QueueCounts struct {
	ByState map[string]int `json:"by_state"`
	Open    int            `json:"open"`   // not final: the engine still works on them
	Manual  int            `json:"manual"` // need a person: tillbridge queue resolve
	Total   int            `json:"total"`
}

// DevicesReport is what `tillbridge devices` shows.
type DevicesReport struct {
	// FromDaemon is false when the CLI ran discovery itself (daemon down).
	FromDaemon bool           `json:"from_daemon"`
	Lanes      []LaneDevices  `json:"lanes"`
	Discovery  devices.Report `json:"discovery"`
}

// LaneDevices is one lane's configured devices and their state.
type LaneDevices struct {
	Lane    string                `json:"lane"`
	Printer *ConfiguredDevice     `json:"printer,omitempty"`
	Scanner *ConfiguredDevice     `json:"scanner,omitempty"`
	States  []devices.DeviceState `json:"states,omitempty"`
}

// ConfiguredDevice is a printer or scanner as the config names it.
type ConfiguredDevice struct {
	Name    string `json:"name"`
	Backend string `json:"backend"`
	Where   string `json:"where,omitempty"` // vid:pid, device, address or path
}

// PrintTestResult is the outcome of a test print.
type PrintTestResult struct {
	Lane    string         `json:"lane"`
	Printer string         `json:"printer"`
	Before  PrinterHealth  `json:"before"`
	Printed bool           `json:"printed"`
	Problem string         `json:"problem,omitempty"` // a status code or device error code
	Detail  string         `json:"detail,omitempty"`
	After   *PrinterHealth `json:"after,omitempty"`
}

// ScanTestResult is the outcome of a scan test. The code is only ever
// reported masked.
type ScanTestResult struct {
	Lane    string `json:"lane"`
	Scanner string `json:"scanner"`
	// Scanned is false when nothing was read before the timeout.
	Scanned bool      `json:"scanned"`
	Masked  string    `json:"masked,omitempty"`
	Length  int       `json:"length,omitempty"`
	Source  string    `json:"source,omitempty"`
	At      time.Time `json:"at,omitzero"`
	// LooksAlipay: 16–24 digits starting 25–30, what the lane would accept.
	LooksAlipay bool   `json:"looks_alipay"`
	Verdict     string `json:"verdict"`
}

// GatewayCheckResult is the outcome of a gateway check: a signed query of
// a trade that does not exist.
type GatewayCheckResult struct {
	URL       string    `json:"url"`
	Partner   string    `json:"partner"`
	SignType  string    `json:"sign_type"`
	TradeID   string    `json:"partner_trans_id"`
	At        time.Time `json:"at"`
	LatencyMS int64     `json:"latency_ms"`
	// Answered: an HTTP answer arrived; Verified: its signature verified.
	Answered   bool   `json:"answered"`
	HTTPStatus int    `json:"http_status,omitempty"`
	Verified   bool   `json:"verified"`
	Code       string `json:"code,omitempty"`
	// ServerTime is the gateway's Date header; ClockSkewMS is local minus
	// gateway time (positive: this till is ahead).
	ServerTime  time.Time `json:"server_time,omitzero"`
	ClockSkewMS int64     `json:"clock_skew_ms"`
	ClockKnown  bool      `json:"clock_known"`
	// OK is true when keys, connectivity and clock are all proven good.
	OK bool `json:"ok"`
	// Verdict is a stable code: ok, key_mismatch, bad_answer_signature,
	// partner, no_privilege, network, timeout, tls, http, not_gateway,
	// gateway_error, clock_skew, config or unknown.
	Verdict string `json:"verdict"`
	Advice  string `json:"advice"`
	Error   string `json:"error,omitempty"`
}

// OpView is a journal operation as the control API shows it (buyer codes
// are masked in the journal itself).
type OpView struct {
	ID              string    `json:"id"`
	Kind            string    `json:"kind"`
	Lane            string    `json:"lane"`
	Ref             string    `json:"ref"`
	ParentID        string    `json:"parent_id,omitempty"`
	State           string    `json:"state"`
	PartnerTransID  string    `json:"partner_trans_id,omitempty"`
	PartnerRefundID string    `json:"partner_refund_id,omitempty"`
	AlipayTransID   string    `json:"alipay_trans_id,omitempty"`
	Amount          int64     `json:"amount"`
	Currency        string    `json:"currency"`
	Buyer           string    `json:"buyer,omitempty"`
	Attempts        int       `json:"attempts"`
	LastCode        string    `json:"last_code,omitempty"`
	Reason          string    `json:"reason,omitempty"`
	NextAttemptAt   time.Time `json:"next_attempt_at,omitzero"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	FinalAt         time.Time `json:"final_at,omitzero"`
	PaidAt          time.Time `json:"paid_at,omitzero"`
}

// EventView is one journal event of an operation.
type EventView struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Name      string    `json:"name"`
	Call      string    `json:"call,omitempty"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	Code      string    `json:"code,omitempty"`
	RawStatus string    `json:"raw_status,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// OpDetail is one operation with its events and, for a sale, its refunds.
type OpDetail struct {
	Op      OpView      `json:"operation"`
	Events  []EventView `json:"events"`
	Refunds []OpView    `json:"refunds,omitempty"`
}

// ResolveRequest is the body of POST /v1/queue/{id}/resolve. State is
// paid, declined, cancelled, voided or refunded (declined on a refund means
// refund_declined); Reason and Operator are mandatory and journaled.
type ResolveRequest struct {
	State    string `json:"state"`
	Reason   string `json:"reason"`
	Operator string `json:"operator"`
}

// newOpView converts a journal operation.
func newOpView(o queue.Operation) OpView {
	return OpView{ID: o.ID, Kind: string(o.Kind), Lane: o.Lane, Ref: o.Ref, ParentID: o.ParentID,
		State: string(o.State), PartnerTransID: o.PartnerTransID, PartnerRefundID: o.PartnerRefundID,
		AlipayTransID: o.AlipayTransID, Amount: o.Amount, Currency: o.Currency, Buyer: o.BuyerMasked,
		Attempts: o.Attempts, LastCode: o.LastCode, Reason: o.Reason, NextAttemptAt: o.NextAttemptAt,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, FinalAt: o.FinalAt, PaidAt: o.PaidAt}
}

// newEventView converts a journal event.
func newEventView(e queue.Event) EventView {
	return EventView{Seq: e.Seq, At: e.At, Name: string(e.Name), Call: string(e.Call),
		From: string(e.From), To: string(e.To), Code: e.Code, RawStatus: e.RawStatus, Detail: e.Detail}
}

// asControlError turns any error into a *ControlError: control errors as
// they are, the journal's typed errors by their meaning, anything else
// internal.
func asControlError(err error) *ControlError {
	var ce *ControlError
	if errors.As(err, &ce) {
		return ce
	}
	var (
		invalid *queue.InvalidError
		state   *queue.StateError
	)
	switch {
	case errors.Is(err, queue.ErrNotFound):
		return controlErrorf(CodeNotFound, "no such operation")
	case errors.As(err, &invalid):
		return controlErrorf(CodeInvalid, "%s: %s", invalid.Field, invalid.Reason)
	case errors.As(err, &state):
		return controlErrorf(CodeState, "cannot %s operation %s (state %s): %s", state.Action, state.OpID,
			state.State, state.Reason)
	case errors.Is(err, queue.ErrClosed):
		return ErrStarting
	case errors.Is(err, context.DeadlineExceeded):
		return controlErrorf(CodeTimeout, "timed out")
	}
	return controlErrorf(CodeInternal, "internal error (see the daemon's log)")
}
