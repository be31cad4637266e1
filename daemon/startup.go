package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// JournalFile is the journal's file name inside the data directory.
const JournalFile = "journal.db"

// listen builds the ECR server (no handler yet: E_UNAVAILABLE) and opens
// every listener.
func (d *Daemon) listen(ctx context.Context) error {
	so := d.opts.Server
	so.Handler = nil
	so.Logger = slogFor(d.log, "ecr")
	if so.MaxConns <= 0 {
		so.MaxConns = d.cfg.ECR.MaxConns
	}
	if so.MaxConns <= 0 {
		// Room for an ECR and an EFT POS link per lane, plus technicians'
		// tools: a fixed cap below the lane count would refuse tills.
		so.MaxConns = max(ecrproto.DefaultMaxConns, 2*len(d.cfg.Lanes)+16)
	}
	if so.LocalReserve <= 0 {
		so.LocalReserve = d.cfg.ECR.LocalReserve
	}
	d.srv = ecrproto.NewServer(so)
	if len(d.opts.Listeners) > 0 {
		d.listeners = append(d.listeners, d.opts.Listeners...)
		return nil
	}
	for i, lc := range d.cfg.Listen {
		ecfg, err := listenConfig(lc)
		if err != nil {
			d.closeListeners()
			return fmt.Errorf("listen[%d]: %w", i, err)
		}
		ln, err := ecrproto.Listen(ctx, ecfg)
		if err != nil {
			d.closeListeners()
			return fmt.Errorf("listen[%d]: %w", i, err)
		}
		d.listeners = append(d.listeners, ln)
	}
	return nil
}

func (d *Daemon) closeListeners() {
	for _, ln := range d.listeners {
		ln.Close()
	}
	d.listeners = nil
}

// listenConfig turns a [[listen]] entry into ecrproto's form, reading the
// shared key file.
func listenConfig(lc ListenConfig) (ecrproto.ListenConfig, error) {
	out := ecrproto.ListenConfig{Network: lc.Network, Address: lc.Address,
		AllowRemote: lc.AllowRemote, SharedKey: lc.SharedKey, Group: lc.Group,
		Remote: ecrproto.RemoteOptions{MaxConns: lc.MaxConns, MaxConnsPerPeer: lc.MaxConnsPerPeer,
			HelloTimeout: lc.HelloTimeout}}
	if lc.SharedKeyFile != "" {
		k, err := readSecretFile(lc.SharedKeyFile)
		if err != nil {
			return out, err
		}
		if err := checkSharedKey(k); err != nil {
			return out, fmt.Errorf("shared_key_file %s: %w", lc.SharedKeyFile, err)
		}
		out.SharedKey = k
	}
	if lc.Mode != "" {
		m, err := strconv.ParseUint(lc.Mode, 8, 32)
		if err != nil {
			return out, fmt.Errorf("mode %q: %w", lc.Mode, err)
		}
		out.Mode = os.FileMode(m)
	}
	return out, nil
}

// journalConfig lays the [payment] settings over Options.Journal.
func (d *Daemon) journalConfig() queue.Config {
	q := d.opts.Journal
	p := d.cfg.Payment
	q.FirstQuery, q.QueryInterval, q.PayDeadline = p.FirstQuery, p.QueryInterval, p.PayDeadline
	q.ScanTimeout, q.BackoffMin, q.BackoffMax = p.ScanTimeout, p.BackoffMin, p.BackoffMax
	q.MaxAttempts, q.Expiry = p.MaxAttempts, p.PendingExpiry
	q.MaxOpen = p.MaxPendingOps
	if q.MaxOpen == 0 {
		q.MaxOpen = -1 // 0 means "no cap" in the config
	}
	if len(p.MaxPendingAmount) > 0 {
		q.MaxPendingAmount = p.MaxPendingAmount
	}
	if q.CallTimeout <= 0 {
		q.CallTimeout = d.cfg.Gateway.Timeout + d.cfg.Gateway.Timeout/2
	}
	q.Logger = slogFor(d.log, "journal")
	return q
}

// openEngine opens the journal (recovering it) and starts the scheduler.
func (d *Daemon) openEngine(ctx context.Context) error {
	if err := os.MkdirAll(d.cfg.Daemon.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	eng, err := queue.Open(ctx, filepath.Join(d.cfg.Daemon.DataDir, JournalFile), d.gw, d.journalConfig())
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	d.eng = eng
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		if err := eng.Run(d.work); err != nil && d.work.Err() == nil {
			d.log.Error().Err(err).Msg("journal engine stopped")
		}
	}()
	return nil
}
