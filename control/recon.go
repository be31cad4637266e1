package control

import (
	"net/http"

	"github.com/tillbridge/tillbridge/recon"
)

// ReconBackend is what a Backend offers when it runs the daily
// reconciliation job (the daemon does; a backend without it answers GET
// /v1/reconcile with CodeNotFound).
type ReconBackend interface {
	// ReconStatus is the job's latest result; nil when the job is off.
	ReconStatus() *recon.JobStatus
}

// handleReconcile serves GET /v1/reconcile: the job's latest result
// (CodeNotFound when the job is off).
func (s *server) handleReconcile(w http.ResponseWriter, r *http.Request) {
	rb, ok := s.b.(ReconBackend)
	if !ok || rb.ReconStatus() == nil {
		s.writeErr(w, r, Errorf(CodeNotFound, "the daily reconciliation is off ([reconcile] enabled = false)"))
		return
	}
	writeJSON(w, http.StatusOK, rb.ReconStatus())
}

// judgeRecon adds the reconciliation job's verdict to the status: an
// alarm (no file after alarm_at) is a problem; exceptions and failures
// are warnings.
func judgeRecon(r *recon.JobStatus, problem, warn func(string, ...any)) {
	if r == nil {
		return
	}
	switch r.State {
	case recon.JobAlarm:
		problem("reconciliation of %s: Alipay's file is still missing (%s); check the SFTP account and [reconcile]", r.Day, r.Error)
	case recon.JobFailed:
		warn("reconciliation of %s failed (%s); retrying", r.Day, r.Error)
	case recon.JobDone:
		if r.Exceptions > 0 {
			warn("reconciliation of %s: %s; see tillbridge reconcile exceptions", r.Day, r.Verdict)
		}
	}
}
