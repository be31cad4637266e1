package control

import (
	"github.com/tillbridge/tillbridge/recon"
	"time"

	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/receipt"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/queue"
)

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
	Reconcile *recon.JobStatus `json:"reconcile,omitempty"`
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

// SaleReceipt is a journaled sale's receipt as the daemon prints it
// (GET /v1/receipt): the Receipt built by the same code as the printed
// receipt and the RESULT's receipt text, and the profile of the lane's
// printer, so a preview can lay it out as the lane prints it.
type SaleReceipt struct {
	Lane    string          `json:"lane"`
	Ref     string          `json:"ref"`
	OpID    string          `json:"op_id"`
	State   string          `json:"state"`
	Profile escpos.Profile  `json:"profile"`
	Receipt receipt.Receipt `json:"receipt"`
}

// NewQueueCounts summarises the journal's counts by state.
func NewQueueCounts(counts map[queue.State]int) QueueCounts {
	q := QueueCounts{ByState: map[string]int{}}
	for st, n := range counts {
		q.ByState[string(st)] = n
		q.Total += n
		if !st.Final() {
			q.Open += n
		}
	}
	q.Manual = counts[queue.StateManual]
	return q
}
