package control

import (
	"context"
	"io"
	"time"

	"github.com/tillbridge/tillbridge/queue"
)

// Backend is what the control API needs from the daemon. The daemon
// implements it (daemon/control_backend.go), and so does its offline
// stand-in for a daemon that is not running; every method is safe to call
// concurrently, and returns ErrStarting before the daemon is ready.
type Backend interface {
	// Snapshot reports the daemon's state; the server adds the gateway
	// health and the verdict.
	Snapshot(ctx context.Context) (StatusSnapshot, error)
	// Journal returns the journal once the daemon is ready.
	Journal() (Journal, error)
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
	// Support is what only the daemon knows for a support bundle.
	Support() SupportInfo
}

// SupportInfo is what a support bundle takes from the daemon besides the
// endpoints' answers.
type SupportInfo struct {
	// Config is the running configuration as TOML, without its inline
	// secrets; ConfigErr says why there is none.
	Config    []byte
	ConfigErr error
	// Secrets lists every configured secret (keys, shared keys) for the
	// bundle's redaction pass. They never leave the daemon.
	Secrets []string
	// LogFile is the daemon's log file ("" when it logs to the console
	// only).
	LogFile string
	// JournalFile is the journal's SQLite file.
	JournalFile string
}

// Journal is what the control API reads and changes in the operation
// journal; *queue.Engine implements it.
type Journal interface {
	// Subscribe delivers every journal event from now on.
	Subscribe() *queue.Subscription
	// Get, List, Events, Refunds and Counts read the journal.
	Get(ctx context.Context, id string) (queue.Operation, error)
	List(ctx context.Context, f queue.Filter) ([]queue.Operation, error)
	Events(ctx context.Context, id string) ([]queue.Event, error)
	Refunds(ctx context.Context, saleID string) ([]queue.Operation, error)
	Counts(ctx context.Context) (map[queue.State]int, error)
	// RetryNow and Resolve are the technician's actions on an operation.
	RetryNow(ctx context.Context, id string) (queue.Operation, error)
	Resolve(ctx context.Context, id string, final queue.State, reason, operator string) (queue.Operation, error)
	// Export streams the operations created in [from, to).
	Export(ctx context.Context, w io.Writer, from, to time.Time, format queue.ExportFormat) error
}

var _ Journal = (*queue.Engine)(nil)
