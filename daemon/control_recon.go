package daemon

import (
	"net/http"
	"time"
)

// reconBackend is what a control backend offers when the daily
// reconciliation job runs (the Daemon does; test fakes need not).
type reconBackend interface {
	// ReconStatus is the job's latest result; nil when the job is off.
	ReconStatus() *ReconStatus
}

// ReconStatus returns the daily reconciliation job's latest result, nil
// when [reconcile] enabled is false.
func (d *Daemon) ReconStatus() *ReconStatus {
	if d.recon == nil {
		return nil
	}
	s := d.recon.Status()
	return &s
}

// startRecon starts the daily reconciliation job when it is enabled. A
// bad [reconcile] table was refused by Validate; anything else is logged
// and the daemon sells on without the job.
func (d *Daemon) startRecon() {
	now := d.opts.Journal.Now
	if now == nil {
		now = time.Now
	}
	j, err := newReconJob(d.cfg, d.log, now)
	if err != nil {
		d.log.Error().Err(err).Msg("reconciliation job not started")
		return
	}
	if j == nil {
		return
	}
	d.recon = j
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		j.run(d.stopCtx)
	}()
}

// handleReconcile serves GET /v1/reconcile: the job's latest result
// (404-style CodeNotFound when the job is off).
func (s *controlServer) handleReconcile(w http.ResponseWriter, r *http.Request) {
	rb, ok := s.b.(reconBackend)
	if !ok || rb.ReconStatus() == nil {
		s.writeErr(w, r, controlErrorf(CodeNotFound, "the daily reconciliation is off ([reconcile] enabled = false)"))
		return
	}
	writeJSON(w, http.StatusOK, rb.ReconStatus())
}

// judgeRecon adds the reconciliation job's verdict to the status: an
// alarm (no file after alarm_at) is a problem; exceptions and failures
// are warnings.
func judgeRecon(r *ReconStatus, problem, warn func(string, ...any)) {
	if r == nil {
		return
	}
	switch r.State {
	case ReconAlarm:
		problem("reconciliation of %s: Alipay's file is still missing (%s); check the SFTP account and [reconcile]", r.Day, r.Error)
	case ReconFailed:
		warn("reconciliation of %s failed (%s); retrying", r.Day, r.Error)
	case ReconDone:
		if r.Exceptions > 0 {
			warn("reconciliation of %s: %s; see tillbridge reconcile exceptions", r.Day, r.Verdict)
		}
	}
}
