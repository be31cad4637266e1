package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// stateVersion is the version of the state file format.
const stateVersion = 1

// stateFile is the JSON document kept in Config.StateFile.
type stateFile struct {
	Version int            `json:"version"`
	Seq     int64          `json:"seq"`
	Trades  []*tradeRecord `json:"trades"`
}

// StateError reports a state file that cannot be read, parsed or written.
type StateError struct {
	// Path is the state file.
	Path string
	// Op is "load" or "save".
	Op string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *StateError) Error() string {
	return fmt.Sprintf("sandbox: %s state %s: %v", e.Op, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *StateError) Unwrap() error { return e.Err }

// store holds every trade, indexed three ways. Callers hold Server.mu.
type store struct {
	dirty      bool // changed since the last save
	seq        int64
	trades     map[string]*tradeRecord // by tradeKey
	byAlipayID map[string]*tradeRecord
	byRefundID map[string]*tradeRecord // by refundKey
}

func newStore() *store {
	return &store{
		trades:     make(map[string]*tradeRecord),
		byAlipayID: make(map[string]*tradeRecord),
		byRefundID: make(map[string]*tradeRecord),
	}
}

func tradeKey(partner, id string) string  { return partner + "\x00" + id }
func refundKey(partner, id string) string { return partner + "\x00r\x00" + id }

// add indexes a trade and its refunds.
func (st *store) add(t *tradeRecord) {
	st.trades[tradeKey(t.Partner, t.PartnerTransID)] = t
	st.byAlipayID[t.AlipayTransID] = t
	for _, r := range t.Refunds {
		st.byRefundID[refundKey(t.Partner, r.PartnerRefundID)] = t
	}
}

// sorted returns the trades in creation order.
func (st *store) sorted() []*tradeRecord {
	out := make([]*tradeRecord, 0, len(st.trades))
	for _, t := range st.trades {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].AlipayTransID < out[j].AlipayTransID
	})
	return out
}

// nextAlipayID returns a new 28-digit Alipay transaction id: the Beijing
// date, a fixed infix and a sequence number that survives restarts.
func (st *store) nextAlipayID(now time.Time) string {
	st.seq++
	return fmt.Sprintf("%s22001%015d", now.In(beijing()).Format("20060102"), st.seq)
}

// loadStore reads path; a missing file is an empty store.
func loadStore(path string) (*store, error) {
	st := newStore()
	if path == "" {
		return st, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, &StateError{path, "load", err}
	}
	var f stateFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, &StateError{path, "load", err}
	}
	if f.Version != stateVersion {
		return nil, &StateError{path, "load", fmt.Errorf("version %d, want %d", f.Version, stateVersion)}
	}
	st.seq = f.Seq
	for _, t := range f.Trades {
		st.add(t)
	}
	return st, nil
}

// save writes the store to path atomically: a temporary file in the same
// directory, fsync, rename over path, fsync of the directory.
func (st *store) save(path string) error {
	if path == "" {
		st.dirty = false
		return nil
	}
	b, err := json.Marshal(stateFile{Version: stateVersion, Seq: st.seq, Trades: st.sorted()})
	if err != nil {
		return &StateError{path, "save", err}
	}
	if err := writeFileAtomic(path, append(b, '\n')); err != nil {
		return &StateError{path, "save", err}
	}
	st.dirty = false
	return nil
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new content, never a mix.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("create temp: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write temp: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync temp: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temp: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable where the OS allows syncing a directory;
// it is best effort (Windows cannot open a directory for sync).
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// beijing is the gateway's time zone, GMT+8 (no daylight saving).
func beijing() *time.Location { return time.FixedZone("GMT+8", 8*60*60) }
