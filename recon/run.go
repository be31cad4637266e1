package recon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/recon/parse"
)

// DefaultLookback is how far before the day journal operations are read:
// files list refunds and cancels of sales made days earlier.
const DefaultLookback = 10 * 24 * time.Hour

// Options says what Reconcile reconciles.
type Options struct {
	// Day is the Beijing day, YYYY-MM-DD.
	Day string
	// TransactionFile is the path of the day's transaction file (required).
	TransactionFile string
	// SettlementFile is the path of a settlement file to check (optional).
	SettlementFile string
	// Journals are the journal files (one per till), read read-only.
	Journals []string
	// Charset of the files (default: UTF-8 when valid, else GBK).
	Charset parse.Charset
	// Store, when set, supplies the carried items and receives the result.
	Store *Store
	// OwnPrefixes are extra partner id prefixes of these tills.
	OwnPrefixes []string
	// Partner, when set, is the partner id the transaction file must be
	// of (a file of another partner is refused with a *DayError).
	Partner string
	// Lookback is how far before Day the journals are read (default
	// DefaultLookback).
	Lookback time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DayError reports a file of another day or partner than expected (Want
// and Got are days, or "partner PID").
type DayError struct {
	File, Want, Got string
}

// Error implements error.
func (e *DayError) Error() string {
	return fmt.Sprintf("recon: %s is the file of %s, not of %s", e.File, e.Got, e.Want)
}

// Reconcile reads the files and the journals, matches them, and (with a
// Store) saves the report and its exceptions and settles carried items.
func Reconcile(ctx context.Context, o Options) (*Result, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lookback <= 0 {
		o.Lookback = DefaultLookback
	}
	day, err := time.ParseInLocation(time.DateOnly, o.Day, parse.Beijing())
	if err != nil {
		return nil, fmt.Errorf("recon: day %q is not YYYY-MM-DD: %w", o.Day, err)
	}
	in := Input{Day: o.Day, OwnPrefixes: o.OwnPrefixes, Now: o.Now().UTC()}
	// The journals are read while the files are parsed (two cores: about
	// the time of the slower of the two instead of their sum).
	type journals struct {
		js  []Journal
		err error
	}
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jc := make(chan journals, 1)
	go func() {
		js, err := ReadJournals(jctx, o.Journals, day.Add(-o.Lookback))
		jc <- journals{js, err}
	}()
	wait := func() error {
		j := <-jc
		in.Journals = j.js
		return j.err
	}
	if err := parseFiles(o, &in); err != nil {
		cancel()
		_ = wait()
		return nil, err
	}
	if err := wait(); err != nil {
		return nil, err
	}
	if o.Store != nil {
		var err error
		if in.Carried, err = o.Store.Carried(ctx, o.Day); err != nil {
			return nil, err
		}
	}
	res, err := Match(in)
	if err != nil {
		return nil, err
	}
	if o.Store != nil {
		if err := o.Store.Save(ctx, res, in.Now); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// parseFiles reads and parses the transaction file and, when given, the
// settlement file into in.
func parseFiles(o Options, in *Input) error {
	raw, err := os.ReadFile(o.TransactionFile)
	if err != nil {
		return fmt.Errorf("recon: %w", err)
	}
	if in.Transactions, err = parse.ParseTransactions(filepath.Base(o.TransactionFile), raw, o.Charset); err != nil {
		return err
	}
	if in.Transactions.Day != o.Day {
		return &DayError{File: o.TransactionFile, Want: o.Day, Got: in.Transactions.Day}
	}
	if o.Partner != "" && in.Transactions.Partner != o.Partner {
		return &DayError{File: o.TransactionFile, Want: "partner " + o.Partner, Got: "partner " + in.Transactions.Partner}
	}
	if o.SettlementFile != "" {
		raw, err := os.ReadFile(o.SettlementFile)
		if err != nil {
			return fmt.Errorf("recon: %w", err)
		}
		if in.Settlements, err = parse.ParseSettlements(filepath.Base(o.SettlementFile), raw, o.Charset); err != nil {
			return err
		}
	}
	return nil
}

// ReadJournals reads the operations created or changed since since from
// each journal file, read-only.
func ReadJournals(ctx context.Context, files []string, since time.Time) ([]Journal, error) {
	var out []Journal
	for _, f := range files {
		r, err := queue.OpenJournalReader(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("recon: %w", err)
		}
		j := Journal{Name: f}
		n, err := r.Count(ctx, since)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("recon: %w", err)
		}
		j.Ops = make([]queue.Operation, 0, n)
		err = r.EachOperation(ctx, since, func(o queue.Operation) error {
			j.Ops = append(j.Ops, o)
			return nil
		})
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("recon: %w", err)
		}
		out = append(out, j)
	}
	return out, nil
}
