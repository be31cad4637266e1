package validate

import (
	"time"
)

// Verdict is the outcome of one case or check.
type Verdict string

// Verdicts. A case that does not apply to the chosen gateway (a sandbox
// scenario code against the configured gateway) is NotApplicable and does
// not count; every other case must PASS for the run to pass.
const (
	Pass          Verdict = "PASS"
	Fail          Verdict = "FAIL"
	NotApplicable Verdict = "N/A"
)

// Report is the evidence of one certification run.
type Report struct {
	// Against is "sandbox" or "configured".
	Against string `json:"against"`
	// Gateway is the URL the daemon was configured with (before the
	// recorder), Partner the partner id, SignType its sign type.
	Gateway  string    `json:"gateway"`
	Partner  string    `json:"partner"`
	SignType string    `json:"sign_type"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Version  string    `json:"version,omitempty"`
	// Preflight are the checks made before any money moved.
	Preflight []Check `json:"preflight"`
	// Cases are the scenarios, in run order.
	Cases []CaseResult `json:"cases"`
	// Cleanup lists the refunds of test payments made at the end.
	Cleanup []Check `json:"cleanup,omitempty"`
	// Passed is true when every check and every applicable case passed.
	Passed bool `json:"passed"`
}

// Check is one named assertion with its outcome and what was seen.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// CaseResult is one scenario's verdict and evidence.
type CaseResult struct {
	ID      string        `json:"id"`
	Title   string        `json:"title"`
	Expect  string        `json:"expect"`
	Verdict Verdict       `json:"verdict"`
	Reason  string        `json:"reason,omitempty"`
	Started time.Time     `json:"started"`
	Took    time.Duration `json:"took_ns"`
	Checks  []Check       `json:"checks"`
	// Timeline holds the ECR messages, journal transitions and gateway
	// calls of the case in time order.
	Timeline []Entry `json:"timeline"`
	// Gateway holds the recorded gateway calls (masked).
	Gateway []Exchange `json:"gateway"`
	// Journal holds the journal's operations of the case with their log.
	Journal []JournalOp `json:"journal"`
	// Ledger compares the gateway's ledger with the journal.
	Ledger LedgerCheck `json:"ledger"`
	// Receipt is the last receipt or slip the case printed.
	Receipt *Receipt `json:"receipt,omitempty"`
}

// Actors of a timeline entry.
const (
	ActorECR     = "ECR"
	ActorDaemon  = "tillbridge"
	ActorJournal = "journal"
	ActorGateway = "gateway"
)

// Entry is one arrow or note of a case's timeline.
type Entry struct {
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Label  string    `json:"label"`
	Detail string    `json:"detail,omitempty"`
}

// JournalOp is one journal operation and its event log.
type JournalOp struct {
	ID             string         `json:"id"`
	Kind           string         `json:"kind"`
	Ref            string         `json:"ref"`
	State          string         `json:"state"`
	PartnerTransID string         `json:"partner_trans_id"`
	RefundID       string         `json:"partner_refund_id,omitempty"`
	Amount         int64          `json:"amount"`
	Currency       string         `json:"currency"`
	AlipayTransID  string         `json:"alipay_trans_id,omitempty"`
	Reason         string         `json:"reason,omitempty"`
	Events         []JournalEvent `json:"events"`
}

// JournalEvent is one entry of an operation's log.
type JournalEvent struct {
	At     time.Time `json:"at"`
	Name   string    `json:"name"`
	Call   string    `json:"call,omitempty"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Code   string    `json:"code,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// LedgerCheck compares the gateway's own ledger with the journal.
type LedgerCheck struct {
	// Available is false when the gateway has no ledger API (the
	// configured gateway: reconcile with its transaction file instead).
	Available bool    `json:"available"`
	OK        bool    `json:"ok"`
	Lines     []Check `json:"lines,omitempty"`
}

// Receipt is a receipt as printed: its text and a PNG picture of the
// paper (devices/preview).
type Receipt struct {
	Text string `json:"text"`
	PNG  []byte `json:"png,omitempty"`
	// Source says where the bytes came from: "printer" (the ESC/POS job
	// the lane's printer received) or "result" (the RESULT's receipt).
	Source string `json:"source"`
}

// Counts returns how many cases passed, failed and did not apply.
func (r *Report) Counts() (pass, fail, na int) {
	for _, c := range r.Cases {
		switch c.Verdict {
		case Pass:
			pass++
		case Fail:
			fail++
		default:
			na++
		}
	}
	return pass, fail, na
}

func (r *Report) computePassed() {
	ok := true
	for _, c := range r.Preflight {
		ok = ok && c.OK
	}
	for _, c := range r.Cleanup {
		ok = ok && c.OK
	}
	_, fail, _ := r.Counts()
	r.Passed = ok && fail == 0 && len(r.Cases) > 0
}
