package soak

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are the live counters of a run, read by the progress line.
type Stats struct {
	Planned    atomic.Int64 // sales to drive
	Done       atomic.Int64 // sales with a final answer
	InFlight   atomic.Int64 // sales started, not final yet
	Faults     atomic.Int64 // gateway fault windows opened
	Kills      atomic.Int64 // daemon SIGKILLs (each followed by a restart)
	Drops      atomic.Int64 // ECR connections dropped mid-sale
	Reconnects atomic.Int64 // ECR connections re-opened
	Refunds    atomic.Int64 // refunds asked for
	Cancels    atomic.Int64 // cancels asked for
	Errors     atomic.Int64 // unexpected ERROR answers
	Requests   atomic.Int64 // requests sent
	NotPaid    atomic.Int64 // sales whose RESULT was not APPROVED
	// Requests repeated after no answer (connection lost or dropped, timed
	// out), after E_UNAVAILABLE, after E_LANE_BUSY.
	NoAnswer, Unavailable, LaneBusy atomic.Int64
}

// recorder collects what the ECR clients heard, the sale latencies and
// the unexpected errors. It is safe for concurrent use.
type recorder struct {
	mu      sync.Mutex
	told    map[string]*Told // kind|lane|ref
	order   []string
	latency map[string][]time.Duration // class → SALE→final RESULT
	errors  []string
}

func newRecorder() *recorder {
	return &recorder{told: map[string]*Told{}, latency: map[string][]time.Duration{}}
}

func toldKey(kind, lane, ref string) string { return kind + "|" + lane + "|" + ref }

// add registers a ref before its first request.
func (r *recorder) add(t Told) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := toldKey(t.Kind, t.Lane, t.Ref)
	if _, ok := r.told[k]; ok {
		return
	}
	r.told[k] = &t
	r.order = append(r.order, k)
}

// heard records a final status heard for a ref.
func (r *recorder) heard(kind, lane, ref, status string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.told[toldKey(kind, lane, ref)]; t != nil {
		t.Heard = append(t.Heard, status)
	}
}

// final records the closing STATUS answer of a ref.
func (r *recorder) final(kind, lane, ref, status, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.told[toldKey(kind, lane, ref)]; t != nil {
		t.Final, t.Reason = status, reason
	}
}

// latencyOf records a sale's SALE→final RESULT time.
func (r *recorder) latencyOf(class string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latency[class] = append(r.latency[class], d)
}

// unexpected records an answer no ECR should get.
func (r *recorder) unexpected(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// snapshot returns copies of the told records (in registration order) and
// the errors.
func (r *recorder) snapshot() ([]Told, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Told, 0, len(r.order))
	for _, k := range r.order {
		t := *r.told[k]
		t.Heard = append([]string(nil), t.Heard...)
		out = append(out, t)
	}
	return out, append([]string(nil), r.errors...)
}

// Latency is the SALE→final RESULT distribution of one scenario class.
type Latency struct {
	Class string        `json:"class"`
	N     int           `json:"n"`
	P50   time.Duration `json:"p50"`
	P90   time.Duration `json:"p90"`
	P99   time.Duration `json:"p99"`
	Max   time.Duration `json:"max"`
}

// latencies summarises the recorded latencies per class, and over all
// sales as the class "all".
func (r *recorder) latencies() []Latency {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Latency
	var all []time.Duration
	for _, class := range slices.Sorted(maps.Keys(r.latency)) {
		ds := r.latency[class]
		all = append(all, ds...)
		out = append(out, summarize(class, ds))
	}
	if len(all) > 0 {
		out = append(out, summarize("all", all))
	}
	return out
}

// summarize computes nearest-rank percentiles.
func summarize(class string, ds []time.Duration) Latency {
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	pct := func(p int) time.Duration {
		i := (p*len(s) + 99) / 100
		return s[max(i-1, 0)]
	}
	return Latency{Class: class, N: len(s), P50: pct(50), P90: pct(90), P99: pct(99), Max: s[len(s)-1]}
}
