package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/recon"
)

// reconIdleGateway is never called: the engine only creates the journal.
type reconIdleGateway struct{}

func (reconIdleGateway) Pay(context.Context, queue.PayRequest) (queue.PayResult, error) {
	return queue.PayResult{}, nil
}
func (reconIdleGateway) Query(context.Context, string) (queue.QueryResult, error) {
	return queue.QueryResult{}, nil
}
func (reconIdleGateway) Cancel(context.Context, string) (queue.CancelResult, error) {
	return queue.CancelResult{}, nil
}
func (reconIdleGateway) Refund(context.Context, queue.RefundRequest) (queue.RefundResult, error) {
	return queue.RefundResult{}, nil
}

func TestReconJobSchedule(t *testing.T) {
	cfg := NewConfig()
	cfg.Daemon.DataDir = t.TempDir()
	cfg.Reconcile = recon.Config{Enabled: true, Source: "dir", Dir: t.TempDir()}
	j, err := newReconJob(cfg, zerolog.Nop(), time.Now)
	if err != nil || j == nil {
		t.Fatalf("job: %v", err)
	}
	bj := time.FixedZone("GMT+8", 8*3600)
	// 09:00 Beijing: today's run at 10:15; 11:00: tomorrow's.
	if got := j.nextRun(time.Date(2026, 3, 5, 9, 0, 0, 0, bj)); !got.Equal(time.Date(2026, 3, 5, 10, 15, 0, 0, bj)) {
		t.Errorf("next run at 09:00: %v", got)
	}
	if got := j.nextRun(time.Date(2026, 3, 5, 11, 0, 0, 0, bj)); !got.Equal(time.Date(2026, 3, 6, 10, 15, 0, 0, bj)) {
		t.Errorf("next run at 11:00: %v", got)
	}
	if d := dayFor(time.Date(2026, 3, 5, 10, 15, 0, 0, bj)); d != "2026-03-04" {
		t.Errorf("day %s", d)
	}
	cfg.Reconcile.Enabled = false
	if j, _ := newReconJob(cfg, zerolog.Nop(), time.Now); j != nil {
		t.Error("a disabled job was built")
	}
}

// TestReconJobWaitsAlarmsAndReports: the file is missing (waiting), still
// missing after alarm_at (alarm: a status problem), then appears and is
// reconciled (done; its exception is a status warning).
func TestReconJobWaitsAlarmsAndReports(t *testing.T) {
	ctx := context.Background()
	data, files := t.TempDir(), t.TempDir()
	e, err := queue.Open(ctx, filepath.Join(data, JournalFile), reconIdleGateway{}, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.Close(ctx)
	cfg := NewConfig()
	cfg.Daemon.DataDir = data
	cfg.Gateway.Partner = "2088000000007430"
	cfg.Reconcile = recon.Config{Enabled: true, Source: "dir", Dir: files, OwnPrefixes: []string{"TBT01"}}
	bj := time.FixedZone("GMT+8", 8*3600)
	now := time.Date(2026, 3, 5, 10, 15, 0, 0, bj)
	j, err := newReconJob(cfg, zerolog.Nop(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	alarmAt := time.Date(2026, 3, 5, 13, 0, 0, 0, bj)
	// The verdicts (alarm: a problem; exceptions: a warning) are the
	// control package's judgeRecon, tested there; here, the states.
	status := func() (ReconStatus, []string, []string) {
		s := j.Status()
		var problems, warnings []string
		switch {
		case s.State == ReconAlarm:
			problems = append(problems, s.Error)
		case s.State == ReconDone && s.Exceptions > 0:
			warnings = append(warnings, s.Verdict)
		}
		return s, problems, warnings
	}

	if err := j.attempt(ctx, "2026-03-04", alarmAt); err == nil {
		t.Fatal("reconciled without a file")
	}
	if s, p, _ := status(); s.State != ReconWaiting || len(p) != 0 {
		t.Fatalf("before the alarm: %+v %v", s, p)
	}
	now = alarmAt.Add(time.Minute)
	j.attempt(ctx, "2026-03-04", alarmAt)
	if s, p, _ := status(); s.State != ReconAlarm || len(p) != 1 || s.Attempts != 2 {
		t.Fatalf("after the alarm: %+v %v", s, p)
	}

	body := "Partner:2088000000007430|Payment_time: 2026-03-04|Total_count:1\n" +
		"Partner_transaction_id|Transaction_id|Transaction_amount|Charge_amount|Currency|Payment_time|Transaction_type|Remark|" +
		"Secondary_merchant_industry|Secondary_merchant_name|Operator_name|Order_scene|Trans_currency|Trans_amount|Trans_forex_rate\n" +
		"TBT0120260304020000AAAAAAAA|2026030422001000000000000001|12.50|0.00|HKD|2026-03-04 10:00:00|PAYMENT||||Gate|paymentQrCode|HKD|12.50|1.00000000\n"
	if err := os.WriteFile(filepath.Join(files, "2088000000007430_transaction_20260304.txt"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := j.attempt(ctx, "2026-03-04", alarmAt); err != nil {
		t.Fatal(err)
	}
	s, p, w := status()
	if s.State != ReconDone || s.Exceptions != 1 || len(p) != 0 || len(w) != 1 || !strings.Contains(s.Verdict, "paid_not_approved") {
		t.Fatalf("done: %+v %v %v", s, p, w)
	}
	if _, err := os.Stat(filepath.Join(data, "recon", "files", "2088000000007430_transaction_20260304.txt")); err != nil {
		t.Fatalf("not archived: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, ReconFile)); err != nil {
		t.Fatalf("no recon database: %v", err)
	}
}
