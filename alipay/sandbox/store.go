package sandbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StateError reports a state file that cannot be opened, read, imported or
// written.
type StateError struct {
	// Path is the state file (or the JSON file being imported).
	Path string
	// Op is "load", "import" or "save".
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

// store holds every trade in memory, indexed three ways, and the trades
// changed since they were last written to the state database. Callers hold
// Server.mu.
type store struct {
	seq        int64
	trades     map[string]*tradeRecord // by tradeKey
	byAlipayID map[string]*tradeRecord
	byRefundID map[string]*tradeRecord // by refundKey

	changed map[*tradeRecord]struct{} // to write at the next save
	urgent  bool                      // a change that must be saved before answering
	db      *stateDB                  // nil: memory only
}

func newStore() *store {
	return &store{
		trades:     make(map[string]*tradeRecord),
		byAlipayID: make(map[string]*tradeRecord),
		byRefundID: make(map[string]*tradeRecord),
		changed:    make(map[*tradeRecord]struct{}),
	}
}

func tradeKey(partner, id string) string  { return partner + "\x00" + id }
func refundKey(partner, id string) string { return partner + "\x00r\x00" + id }

// add indexes a trade and its refunds, and advances the Alipay id sequence
// past the trade's id.
func (st *store) add(t *tradeRecord) {
	st.trades[tradeKey(t.Partner, t.PartnerTransID)] = t
	st.byAlipayID[t.AlipayTransID] = t
	for _, r := range t.Refunds {
		st.byRefundID[refundKey(t.Partner, r.PartnerRefundID)] = t
	}
	st.seq = max(st.seq, alipayIDSeq(t.AlipayTransID))
}

// addRefund records an accepted refund of t.
func (st *store) addRefund(t *tradeRecord, r Refund) {
	t.Refunds = append(t.Refunds, r)
	st.byRefundID[refundKey(t.Partner, r.PartnerRefundID)] = t
}

// touch marks t changed: it is written before the answer leaves.
func (st *store) touch(t *tradeRecord) {
	st.changed[t] = struct{}{}
	st.urgent = true
}

// touchLater marks t changed without asking for a write of its own: a
// query's call counter is written with the next change or at Close, so
// that polling stays cheap.
func (st *store) touchLater(t *tradeRecord) { st.changed[t] = struct{}{} }

// save writes the changed trades in one transaction. On failure they stay
// marked and are written by the next save.
func (st *store) save(ctx context.Context) error {
	if st.db != nil && len(st.changed) > 0 {
		if err := st.db.write(ctx, st.changed); err != nil {
			return err
		}
	}
	clear(st.changed)
	st.urgent = false
	return nil
}

// close saves what is left and closes the state database. Once closed,
// there is nothing more to do: closing again returns nil.
func (st *store) close(ctx context.Context) error {
	if st.db == nil || st.db.closed {
		return nil
	}
	return errors.Join(st.save(ctx), st.db.close())
}

// sorted returns the trades in creation order.
func (st *store) sorted() []*tradeRecord {
	out := make([]*tradeRecord, 0, len(st.trades))
	for _, t := range st.trades {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *tradeRecord) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.AlipayTransID, b.AlipayTransID)
	})
	return out
}

// Alipay transaction ids are the Beijing date, a fixed infix and a
// sequence number: 8 + 5 + 15 digits.
const (
	alipayIDInfix  = "22001"
	alipayIDSeqLen = 15
)

// nextAlipayID returns a new 28-digit Alipay transaction id. The sequence
// survives restarts: it is recomputed from the stored trades' ids.
func (st *store) nextAlipayID(now time.Time) string {
	st.seq++
	return fmt.Sprintf("%s%s%0*d", now.In(beijing()).Format("20060102"), alipayIDInfix, alipayIDSeqLen, st.seq)
}

// alipayIDSeq returns the sequence number of an id made by nextAlipayID,
// 0 for any other string.
func alipayIDSeq(id string) int64 {
	if len(id) != 8+len(alipayIDInfix)+alipayIDSeqLen {
		return 0
	}
	n, err := strconv.ParseInt(id[len(id)-alipayIDSeqLen:], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// beijing is the gateway's time zone, GMT+8 (no daylight saving).
func beijing() *time.Location { return time.FixedZone("GMT+8", 8*60*60) }
