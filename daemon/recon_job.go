package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tillbridge/tillbridge/recon"
	"github.com/tillbridge/tillbridge/recon/fetch"
	"github.com/tillbridge/tillbridge/recon/parse"
)

// ReconFile is the recon database in the data directory.
const ReconFile = "recon.db"

// Reconciliation job states (ReconStatus.State): recon's.
const (
	ReconScheduled = recon.JobScheduled
	ReconWaiting   = recon.JobWaiting
	ReconAlarm     = recon.JobAlarm
	ReconDone      = recon.JobDone
	ReconFailed    = recon.JobFailed
)

// ReconStatus is the daily reconciliation job's latest result
// (recon.JobStatus), in `tillbridge status` and GET /v1/reconcile.
type ReconStatus = recon.JobStatus

// reconJob reconciles the previous Beijing day once a day at [reconcile]
// at (in zone), retrying every retry_every while Alipay's file is not
// there, and raising an alarm (ERROR log, status problem) after alarm_at.
type reconJob struct {
	cfg      recon.Config
	loc      *time.Location
	at       time.Duration
	alarmAt  time.Duration
	partner  string
	dataDir  string
	journals []string
	log      zerolog.Logger
	now      func() time.Time

	mu     sync.Mutex
	status ReconStatus
	alarm  bool // the alarm of status.Day was logged
}

// newReconJob builds the job from the configuration; nil when the job is
// not enabled.
func newReconJob(cfg *Config, log zerolog.Logger, now func() time.Time) (*reconJob, error) {
	rc := cfg.Reconcile.WithDefaults()
	if !rc.Enabled {
		return nil, nil
	}
	if err := rc.Validate(); err != nil {
		return nil, err
	}
	loc, err := rc.Location()
	if err != nil {
		return nil, err
	}
	at, _ := time.Parse("15:04", rc.At)
	alarm, _ := time.Parse("15:04", rc.AlarmAt)
	j := &reconJob{cfg: rc, loc: loc, partner: cfg.Gateway.Partner, dataDir: cfg.Daemon.DataDir,
		at:       time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute,
		alarmAt:  time.Duration(alarm.Hour())*time.Hour + time.Duration(alarm.Minute())*time.Minute,
		journals: append([]string{filepath.Join(cfg.Daemon.DataDir, JournalFile)}, rc.Journals...),
		log:      log.With().Str("component", "reconcile").Logger(), now: now}
	j.status = ReconStatus{State: ReconScheduled, Next: j.nextRun(now())}
	return j, nil
}

// midnight returns the start of t's day in the job's zone.
func (j *reconJob) midnight(t time.Time) time.Time {
	l := t.In(j.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, j.loc)
}

// nextRun is the first scheduled start at or after now.
func (j *reconJob) nextRun(now time.Time) time.Time {
	start := j.midnight(now).Add(j.at)
	if start.Before(now) {
		start = j.midnight(now).AddDate(0, 0, 1).Add(j.at)
	}
	return start
}

// dayFor is the Beijing day a run started at t reconciles: the day before.
func dayFor(t time.Time) string {
	return t.In(parse.Beijing()).AddDate(0, 0, -1).Format(time.DateOnly)
}

// Status returns the latest result.
func (j *reconJob) Status() ReconStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.status
	s.Totals = append([]recon.Totals(nil), s.Totals...)
	return s
}

// run schedules the job until ctx ends. A run that started today keeps
// trying (every retry_every) until the file is reconciled or the next
// day's run is due.
func (j *reconJob) run(ctx context.Context) {
	start := j.nextRun(j.now())
	if last := start.AddDate(0, 0, -1); j.now().Sub(last) < 24*time.Hour && j.now().After(last) {
		start = last // the daemon (re)started after today's start: try now
	}
	for {
		if !j.sleepUntil(ctx, start) {
			return
		}
		day := dayFor(start)
		deadline := j.midnight(start).Add(j.alarmAt)
		nextStart := j.midnight(start).AddDate(0, 0, 1).Add(j.at)
		for {
			err := j.attempt(ctx, day, deadline)
			if err == nil || ctx.Err() != nil {
				break
			}
			retry := j.now().Add(j.cfg.RetryEvery)
			if !retry.Before(nextStart) {
				j.log.Error().Str("day", day).Err(err).Msg("reconciliation gave up for the day: no file before the next run")
				break
			}
			j.setNext(retry)
			if !j.sleepUntil(ctx, retry) {
				return
			}
		}
		start = nextStart
		j.setNext(start)
	}
}

func (j *reconJob) sleepUntil(ctx context.Context, t time.Time) bool {
	d := t.Sub(j.now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

func (j *reconJob) setNext(t time.Time) {
	j.mu.Lock()
	j.status.Next = t
	j.mu.Unlock()
}

// attempt fetches and reconciles day once; the error is nil when the day
// was reconciled (whatever the verdict).
func (j *reconJob) attempt(ctx context.Context, day string, alarmAt time.Time) error {
	now := j.now()
	j.mu.Lock()
	if j.status.Day != day {
		j.status, j.alarm = ReconStatus{Day: day}, false
	}
	j.status.Attempts++
	j.status.Last = now
	j.mu.Unlock()
	err := j.reconcile(ctx, day, now)
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case err == nil:
		j.log.Info().Str("day", day).Str("verdict", j.status.Verdict).Msg("reconciled")
		if j.status.Exceptions > 0 {
			j.log.Warn().Str("day", day).Int("exceptions", j.status.Exceptions).
				Msg("reconciliation found exceptions: tillbridge reconcile exceptions")
		}
		return nil
	case errors.Is(err, fetch.ErrNotYet) && !now.Before(alarmAt):
		j.status.State, j.status.Error = ReconAlarm, err.Error()
		if !j.alarm {
			j.alarm = true
			j.log.Error().Str("day", day).Err(err).Msg("ALARM: Alipay's transaction file is still missing after alarm_at; " +
				"check the SFTP account in the Alipay merchant portal (files are deleted after about 7 days)")
		}
	case errors.Is(err, fetch.ErrNotYet):
		j.status.State, j.status.Error = ReconWaiting, err.Error()
		j.log.Info().Str("day", day).Msg("Alipay's transaction file is not there yet; retrying")
	default:
		j.status.State, j.status.Error = ReconFailed, err.Error()
		j.log.Error().Str("day", day).Err(err).Msg("reconciliation failed; retrying")
		if !now.Before(alarmAt) {
			j.status.State = ReconAlarm
		}
	}
	return err
}

// reconcile fetches the day's files, reconciles them and records the
// result in the status.
func (j *reconJob) reconcile(ctx context.Context, day string, now time.Time) error {
	st, err := recon.OpenStore(ctx, filepath.Join(j.dataDir, ReconFile))
	if err != nil {
		return err
	}
	defer st.Close()
	fctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	f, err := recon.FetchDay(fctx, j.cfg, j.partner, day, j.dataDir, st, now)
	if err != nil {
		return err
	}
	res, err := recon.Reconcile(ctx, recon.Options{Day: day, TransactionFile: f.Transaction.Path,
		SettlementFile: f.Settlement.Path, Journals: j.journals, Charset: parse.Charset(j.cfg.Charset),
		Store: st, OwnPrefixes: j.cfg.OwnPrefixes, Partner: j.partner, Now: j.now})
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", day, err)
	}
	j.mu.Lock()
	j.status.State, j.status.Error = ReconDone, ""
	j.status.Verdict, j.status.Exceptions = res.Report.Verdict(), res.Report.Exceptions
	j.status.Totals = res.Report.Totals
	j.mu.Unlock()
	return nil
}
