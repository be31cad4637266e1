package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/recon"
	"github.com/tillbridge/tillbridge/recon/fetch"
)

// fetchForDay gets the day's files from the [reconcile] source of the
// configuration and archives them in the data directory; it returns the
// archived transaction file and settlement file ("" when not there yet).
func fetchForDay(ctx context.Context, cfg *daemon.Config, data, day string, st *recon.Store) (string, string, error) {
	var rc recon.Config
	partner := ""
	if cfg != nil && cfg.Reconcile.Source != "" {
		rc, partner = cfg.Reconcile, cfg.Gateway.Partner
	} else if sbc, err := daemon.LoadSandboxReconcile(data); err == nil {
		rc, partner = sbc, daemon.SandboxPartner // a `tillbridge run --sandbox` data directory
	} else {
		return "", "", usageErr(errors.New("--file is required: no [reconcile] source in the configuration (see docs/reconciliation.md)"))
	}
	rc = rc.WithDefaults()
	if err := rc.Validate(); err != nil {
		return "", "", usageErr(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	f, err := recon.FetchDay(cctx, rc, partner, day, data, st, time.Now())
	if errors.Is(err, fetch.ErrNotYet) {
		return "", "", &exitError{code: exitFailure, err: fmt.Errorf("%w (Alipay writes the files of a day between 09:00 and 10:00 Beijing time the next day)", err)}
	}
	if err != nil {
		return "", "", &exitError{code: exitFailure, err: err}
	}
	return f.Transaction.Path, f.Settlement.Path, nil
}
