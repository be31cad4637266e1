package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tillbridge/tillbridge/queue"
)

func journalCommand() command {
	return command{name: "journal", summary: "export the payment journal for reconciliation (CSV or JSON)", run: runJournal}
}

const journalUsage = `usage: tillbridge journal export --from DATE [--to DATE] [--csv] [--out FILE] [--config FILE | --data DIR | --socket ADDR]

Exports every operation created from --from (a date, local midnight, or an
RFC 3339 time) up to and including --to (a date: its whole day; default now)
for reconciliation with Alipay's transaction and settlement files: ids
(partner_trans_id, alipay_trans_id), amounts in minor units, state, masked
buyer, times in UTC. JSON by default, CSV with --csv; to standard output, or
to --out FILE (written whole, then renamed into place).

The export is read from the running daemon (the journal is only ever opened
by its daemon). When the daemon is down, start it (it recovers the journal
and serves the export while the network is still down).

Exit codes: 0 exported; 1 failed; 2 bad flags; 3 the daemon is not running.

Examples:
  tillbridge journal export --from 2026-03-01 --to 2026-03-31 --csv --out march.csv
  tillbridge journal export --from 2026-03-04 > day.json
`

func runJournal(ctx context.Context, cio cmdIO, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprint(cio.stderr, journalUsage)
		return usageErr(errors.New("journal needs export"))
	}
	var f ctlFlags
	var from, to, out string
	var csv bool
	fs := newCtlFlagSet("journal export", journalUsage, cio, &f)
	fs.StringVar(&from, "from", "", "first `date` (or RFC 3339 time), required")
	fs.StringVar(&to, "to", "", "last `date`, included (or an RFC 3339 time, excluded); default now")
	fs.BoolVar(&csv, "csv", false, "CSV instead of JSON")
	fs.StringVar(&out, "out", "", "write to `file` instead of standard output")
	if err := parseCtl(fs, args[1:], false); err != nil {
		return err
	}
	start, end, err := exportRange(from, to, time.Now())
	if err != nil {
		return usageErr(err)
	}
	format := queue.ExportJSON
	if csv {
		format = queue.ExportCSV
	}
	cl, _ := f.client()
	defer cl.Close()
	cctx, cancel := ctlContext(ctx, 10*time.Minute)
	defer cancel()
	write := func(w io.Writer) error { return cl.ExportJournal(cctx, w, start, end, format) }
	if out == "" {
		return ctlErr(write(cio.stdout))
	}
	if err := writeFileVia(out, 0o600, write); err != nil {
		return ctlErr(err)
	}
	fmt.Fprintf(cio.stderr, "wrote %s\n", out)
	return nil
}

// exportRange turns --from and --to into [start, end): a date --to
// includes its whole day.
func exportRange(from, to string, now time.Time) (time.Time, time.Time, error) {
	if from == "" {
		return time.Time{}, time.Time{}, errors.New("--from is required")
	}
	start, err := parseWhen(from, now)
	if err != nil {
		return start, start, fmt.Errorf("--from: %w", err)
	}
	end := now.Add(time.Minute)
	if to != "" {
		if day, err := time.ParseInLocation(time.DateOnly, to, time.Local); err == nil {
			end = day.AddDate(0, 0, 1)
		} else if end, err = parseWhen(to, now); err != nil {
			return start, end, fmt.Errorf("--to: %w", err)
		}
	}
	if !end.After(start) {
		return start, end, errors.New("--to must be after --from")
	}
	return start, end, nil
}

// writeFileVia writes a file through fn into a temporary file beside it,
// then renames it into place: a failed export leaves no half file.
func writeFileVia(path string, perm os.FileMode, fn func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := fn(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
