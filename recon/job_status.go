package recon

import "time"

// Daily reconciliation job states (JobStatus.State).
const (
	JobScheduled = "scheduled"    // waiting for the next run
	JobWaiting   = "waiting_file" // the day's file is not there yet; retrying
	JobAlarm     = "alarm"        // still no file after alarm_at
	JobDone      = "done"         // reconciled; see Verdict
	JobFailed    = "failed"       // an error other than a missing file; retrying
)

// JobStatus is the daemon's daily reconciliation job's latest result, in
// `tillbridge status` and the control API's GET /v1/reconcile.
type JobStatus struct {
	// Day is the Beijing day last attempted (YYYY-MM-DD).
	Day   string `json:"day,omitempty"`
	State string `json:"state"`
	// Verdict is the report's (OK or EXCEPTIONS: N (worst: class)).
	Verdict    string `json:"verdict,omitempty"`
	Exceptions int    `json:"exceptions"`
	// Attempts is the number of tries for Day.
	Attempts int       `json:"attempts"`
	Last     time.Time `json:"last,omitzero"`
	Next     time.Time `json:"next,omitzero"`
	Error    string    `json:"error,omitempty"`
	// Totals are the day's per-currency totals.
	Totals []Totals `json:"totals,omitempty"`
}
