package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// FileFaultKind names a mismatch the sandbox plants in its reconciliation
// files (the ledger itself is not changed), so that reconciliation can be
// shown and tested catching it.
type FileFaultKind string

// The file faults.
const (
	// FileFaultUnknownPaid adds a PAYMENT the till never heard of (money
	// taken, no ticket): PartnerTransID, or one shaped like the newest
	// trade's id; Amount and Currency (default 1000 of the newest trade's
	// currency); At (default now).
	FileFaultUnknownPaid FileFaultKind = "unknown_paid"
	// FileFaultMissing leaves the movements of PartnerTransID (a trade or
	// a partner_refund_id) out of the files.
	FileFaultMissing FileFaultKind = "missing"
	// FileFaultWrongAmount lists the movements of PartnerTransID with
	// Amount instead of their own.
	FileFaultWrongAmount FileFaultKind = "wrong_amount"
	// FileFaultFee charges Fee (minor units) on the movements of
	// PartnerTransID, or on every movement when it is empty.
	FileFaultFee FileFaultKind = "fee"
	// FileFaultDuplicate lists the movements of PartnerTransID twice.
	FileFaultDuplicate FileFaultKind = "duplicate"
)

// FileFault is one planted file mismatch.
type FileFault struct {
	Kind           FileFaultKind `json:"kind"`
	PartnerTransID string        `json:"partner_trans_id,omitempty"`
	Amount         int64         `json:"amount,omitempty"`
	Currency       string        `json:"currency,omitempty"`
	Fee            int64         `json:"fee,omitempty"`
	At             time.Time     `json:"at,omitzero"`
}

// SetFileFault plants a mismatch in every file written from now on.
func (s *Server) SetFileFault(f FileFault) error {
	switch f.Kind {
	case FileFaultUnknownPaid:
	case FileFaultMissing, FileFaultWrongAmount, FileFaultDuplicate:
		if f.PartnerTransID == "" {
			return &FaultError{fmt.Sprintf("%s needs partner_trans_id", f.Kind)}
		}
	case FileFaultFee:
		if f.Fee <= 0 {
			return &FaultError{"fee needs a positive fee"}
		}
	default:
		return &FaultError{fmt.Sprintf("unknown file fault %q (want unknown_paid, missing, wrong_amount, fee or duplicate)", f.Kind)}
	}
	if f.Amount < 0 || (f.Kind == FileFaultWrongAmount && f.Amount == 0) {
		return &FaultError{"amount must be positive"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Kind == FileFaultUnknownPaid && f.At.IsZero() {
		f.At = s.now()
	}
	s.fileFaults = append(s.fileFaults, f)
	return nil
}

// ClearFileFaults removes every planted file mismatch.
func (s *Server) ClearFileFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fileFaults = nil
}

// FileFaults lists the planted file mismatches.
func (s *Server) FileFaults() []FileFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]FileFault(nil), s.fileFaults...)
}

// applyFileFaults returns the movements of [from, to) with the planted
// mismatches applied.
func (s *Server) applyFileFaults(ms []movement, from, to time.Time) []movement {
	faults := s.FileFaults()
	for _, f := range faults {
		var out []movement
		for _, m := range ms {
			hit := f.PartnerTransID == "" || m.id == f.PartnerTransID
			switch {
			case f.Kind == FileFaultMissing && hit:
				continue
			case f.Kind == FileFaultWrongAmount && hit:
				m.amount = f.Amount
			case f.Kind == FileFaultFee && hit:
				m.fee = f.Fee
			case f.Kind == FileFaultDuplicate && hit:
				out = append(out, m)
			}
			out = append(out, m)
		}
		if f.Kind == FileFaultUnknownPaid && !f.At.Before(from) && f.At.Before(to) {
			out = append(out, s.plantedPayment(f, ms))
		}
		ms = out
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].at.Before(ms[j].at) })
	return ms
}

// plantedPayment builds the movement of a FileFaultUnknownPaid.
func (s *Server) plantedPayment(f FileFault, ms []movement) movement {
	newest := Trade{Currency: "HKD", ExchangeRate: "1.00000000", PartnerTransID: "TBSANDBOX00000000000000000000"}
	if ts := s.Trades(); len(ts) > 0 {
		newest = ts[len(ts)-1]
	}
	id := f.PartnerTransID
	if id == "" {
		prefix := newest.PartnerTransID
		if len(prefix) > 22 {
			prefix = prefix[:len(prefix)-22] // TB + terminal; then time and 8 random
		}
		id = prefix + f.At.UTC().Format("20060102150405") + "PLANTED0"
	}
	cur, amount := f.Currency, f.Amount
	if cur == "" {
		cur = newest.Currency
	}
	if amount == 0 {
		amount = 1000
	}
	t := &Trade{Partner: s.cfg.Partner, PartnerTransID: id, AlipayTransID: f.At.In(beijing()).Format("20060102") + "22009999999999999999",
		Currency: cur, Amount: amount, ExchangeRate: newest.ExchangeRate, Merchant: newest.Merchant}
	return movement{kind: TypePayment, id: id, at: f.At, amount: amount, trade: t}
}

// fileFaultRoutes adds the file-fault API to the /sandbox/ routes.
func (s *Server) fileFaultRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /sandbox/file-faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONValue(w, s.FileFaults())
	})
	mux.HandleFunc("POST /sandbox/file-faults", func(w http.ResponseWriter, r *http.Request) {
		var f FileFault
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeJSONError(w, http.StatusBadRequest, fmt.Errorf("bad file fault: %w", err))
			return
		}
		if err := s.SetFileFault(f); err != nil {
			writeJSONError(w, http.StatusBadRequest, err)
			return
		}
		writeJSONValue(w, s.FileFaults())
	})
	mux.HandleFunc("DELETE /sandbox/file-faults", func(w http.ResponseWriter, _ *http.Request) {
		s.ClearFileFaults()
		writeJSONValue(w, []FileFault{})
	})
}

func writeJSONValue(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// TransactionFileName is Alipay's SFTP name of a transaction file:
// PID_transaction_YYYYMMDD.txt (reference §10.2).
func TransactionFileName(partner string, day time.Time) string {
	return fmt.Sprintf("%s_transaction_%s.txt", partner, day.In(beijing()).Format("20060102"))
}

// SettlementFileName is Alipay's SFTP name of a settlement file.
func SettlementFileName(partner string, day time.Time) string {
	return fmt.Sprintf("%s_settlement_%s.txt", partner, day.In(beijing()).Format("20060102"))
}

// WriteFiles writes into dir the transaction file and the settlement file
// of the Beijing day containing day — as Alipay does on the next morning;
// the settlement file lists what was settled that day (SettledOn: the day
// before, or Friday to Sunday on a Monday) and is not written for a
// Saturday or Sunday, when nothing is settled — each written whole and
// renamed into place. It returns the paths.
func (s *Server) WriteFiles(dir string, day time.Time) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sandbox: write files: %w", err)
	}
	from, _ := beijingDay(day)
	var paths []string
	_, settles := SettledOn(from)
	for _, f := range []struct {
		name  string
		write func(*os.File) error
		skip  bool
	}{
		{TransactionFileName(s.cfg.Partner, from), func(w *os.File) error { return s.WriteTransactionFile(w, from) }, false},
		{SettlementFileName(s.cfg.Partner, from), func(w *os.File) error { return s.WriteSettlementFile(w, from) }, !settles},
	} {
		if f.skip {
			continue // no settlement on a weekend day: Alipay writes no file
		}
		p := filepath.Join(dir, f.name)
		if err := writeAtomic(p, f.write); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func writeAtomic(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("sandbox: write %s: %w", filepath.Base(path), err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("sandbox: write %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sandbox: write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("sandbox: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// FileSchedule says when RunFileWriter writes the files.
type FileSchedule struct {
	// Dir receives the files.
	Dir string
	// At is the Beijing time of day the files of the day before are
	// written (default 09:30, within Alipay's 09:00–10:00 window).
	At time.Duration
	// Now also writes the day before's files at once, and the current
	// day's at once and again every Every (for tests and demos: a newcomer
	// sees today's sales, and a daily job started now finds yesterday's).
	Now bool
	// Every rewrites the current day's files this often when Now is set
	// (default 1 minute).
	Every time.Duration
	// Logf reports each write (optional).
	Logf func(format string, args ...any)
}

// RunFileWriter writes the reconciliation files on schedule until ctx is
// done: each day at At (Beijing) the files of the day before, and with
// Now the current day's files at once and every Every.
func (s *Server) RunFileWriter(ctx context.Context, sch FileSchedule) error {
	if sch.At == 0 {
		sch.At = 9*time.Hour + 30*time.Minute
	}
	if sch.Every <= 0 {
		sch.Every = time.Minute
	}
	logf := sch.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	write := func(day time.Time) {
		paths, err := s.WriteFiles(sch.Dir, day)
		if err != nil {
			logf("sandbox: reconciliation files: %v", err)
			return
		}
		logf("sandbox: wrote %v", paths)
	}
	if sch.Now {
		write(s.now().AddDate(0, 0, -1)) // yesterday's too: a daily job started now finds its file
	}
	for {
		now := s.now()
		today, _ := beijingDay(now)
		due := today.Add(sch.At)
		if !due.After(now) {
			due = due.AddDate(0, 0, 1)
		}
		wait := due.Sub(now)
		if sch.Now {
			write(now)
			wait = min(wait, sch.Every)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if now2 := s.now(); !now2.Before(due) {
			write(due.AddDate(0, 0, -1))
		}
	}
}
