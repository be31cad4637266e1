package recon_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox/sftpd"
	"github.com/tillbridge/tillbridge/recon"
	"github.com/tillbridge/tillbridge/recon/fetch"
)

// TestFetchBySFTPAndReconcile is the whole path: the sandbox writes its
// files, serves them over SFTP; the day is fetched with the host key
// pinned, archived with its SHA-256, and reconciled.
func TestFetchBySFTPAndReconcile(t *testing.T) {
	ctx := context.Background()
	d := newDay(t)
	served := filepath.Join(d.dir, "served")
	for _, day := range []time.Time{d.clock(), d.clock().AddDate(0, 0, 1)} {
		if _, err := d.sb.WriteFiles(served, day); err != nil {
			t.Fatal(err)
		}
	}
	hk, err := sftpd.LoadOrCreateHostKey(filepath.Join(d.dir, "sftp_host_key"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sftpd.New(sftpd.Config{Root: served, HostKey: hk, User: testPartner, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	defer func() { stop(); <-done }()
	pw := filepath.Join(d.dir, "pw")
	os.WriteFile(pw, []byte("pw"), 0o600)

	data := filepath.Join(d.dir, "data")
	st, err := recon.OpenStore(ctx, filepath.Join(d.dir, "recon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := recon.Config{Source: "sftp", SFTP: fetch.SFTPConfig{Addr: ln.Addr().String(), User: testPartner,
		PasswordFile: pw, Fingerprint: srv.Fingerprint()}}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	f, err := recon.FetchDay(ctx, cfg, testPartner, testDay, data, st, d.clock())
	if err != nil {
		t.Fatal(err)
	}
	if f.Transaction.Path == "" || f.Settlement.Path == "" || filepath.Dir(f.Transaction.Path) != filepath.Join(data, "recon", "files") {
		t.Fatalf("fetched %+v", f)
	}
	res, err := recon.Reconcile(ctx, recon.Options{Day: testDay, TransactionFile: f.Transaction.Path,
		SettlementFile: f.Settlement.Path, Journals: []string{d.journal}, Store: st, Now: d.clock})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Exceptions != 0 || res.Report.Counts[recon.ClassMatched] != 4 {
		t.Fatalf("report:\n%s", dump(res.Report))
	}
	// The next day: no sales, and the settlement file of that date
	// settles testDay's five movements.
	f, err = recon.FetchDay(ctx, cfg, testPartner, "2026-03-05", data, st, d.clock())
	if err != nil {
		t.Fatal(err)
	}
	res, err = recon.Reconcile(ctx, recon.Options{Day: "2026-03-05", TransactionFile: f.Transaction.Path,
		SettlementFile: f.Settlement.Path, Journals: []string{d.journal}, Store: st, Now: d.clock})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Exceptions != 0 || res.Report.Counts[recon.ClassSettled] != 5 || res.Report.Totals[0].NetSettlement != 2250 {
		t.Fatalf("next day:\n%s", dump(res.Report))
	}
	// The day after is not there yet.
	if _, err := recon.FetchDay(ctx, cfg, testPartner, "2026-03-06", data, st, d.clock()); !isNotYet(err) {
		t.Fatalf("day after: %v", err)
	}
}

func isNotYet(err error) bool { return errors.Is(err, fetch.ErrNotYet) }
