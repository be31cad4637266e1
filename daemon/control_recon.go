package daemon

import "time"

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
