package queue

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mattn/go-sqlite3"
)

// SyncMode is SQLite's synchronous setting for the journal.
type SyncMode string

// Sync modes (docs/journal.md explains the choice).
const (
	// SyncFull fsyncs the WAL at every commit: a committed transition
	// survives power loss. The default, and the only safe mode for money.
	SyncFull SyncMode = "FULL"
	// SyncNormal fsyncs only at checkpoints: the last commits before a power
	// loss may vanish. For benchmarks and tests only.
	SyncNormal SyncMode = "NORMAL"
)

// Failpoint names a point in a gateway attempt where a test hook runs
// (crash tests kill the process there).
type Failpoint string

// Failpoints.
const (
	// FailBeforeCommit runs inside the write-ahead transaction, before its
	// commit.
	FailBeforeCommit Failpoint = "before-commit"
	// FailAfterCommitBeforeCall runs after the commit, before the request.
	FailAfterCommitBeforeCall Failpoint = "after-commit-before-call"
	// FailAfterCallBeforeRecord runs after the answer, before it is recorded.
	FailAfterCallBeforeRecord Failpoint = "after-call-before-record"
)

// Config holds the engine's settings. The zero value of a field means its
// default (see DefaultConfig); durations and limits that may be switched off
// say so.
type Config struct {
	Sync        SyncMode      // default SyncFull
	BusyTimeout time.Duration // SQLite busy timeout; default 5 s

	FirstQuery    time.Duration // first query after the pay was sent; default 3.5 s
	QueryInterval time.Duration // then every; default 3.5 s
	PayDeadline   time.Duration // cancel when still unknown this long after the pay; default 60 s
	ScanTimeout   time.Duration // void a sale still waiting for its code; default 15 min
	BackoffMin    time.Duration // first cancel/refund/check retry delay; default 2 s
	BackoffMax    time.Duration // cap of the doubling delay; default 5 min
	CancelGrace   time.Duration // cancel window after the Beijing day ends; default 15 min
	CallTimeout   time.Duration // per gateway call safety net; default 60 s

	// MaxAttempts is the most gateway calls in one retrying state (cancelling,
	// checking, refunding) before the engine stops; 0 means no limit (Expiry
	// bounds it).
	MaxAttempts int
	// Expiry: an operation not final this long after it was created goes
	// manual; default 7 days.
	Expiry time.Duration
	// MaxOpen is the most non-final operations accepted; default 1000,
	// negative for no limit.
	MaxOpen int
	// MaxPendingAmount caps the sum of non-final operations' amounts per
	// currency (minor units); a currency not listed has no cap.
	MaxPendingAmount map[string]int64

	MaxConcurrentCalls int // gateway calls in flight at once; default 16
	SubscriberBuffer   int // events buffered per subscriber; default 1024

	// Clock is the engine's time: the wall clock for the journal, a
	// monotonic clock for what is due (docs/journal.md, "Clocks"); default
	// SystemClock. Tests step its wall clock both ways.
	Clock Clock
	// Now, when Clock is nil, is the wall clock; elapsed time is then the
	// difference of its readings (monotonic for time.Now, which is the
	// default). When Clock is set, Now is ignored.
	Now    func() time.Time
	Rand   io.Reader    // randomness for identifiers; default crypto/rand
	Logger *slog.Logger // default: discard

	// Hook, when set, runs at each failpoint of each gateway attempt. Tests
	// use it to crash the process; it must not block for long.
	Hook func(point Failpoint, call Call, op Operation)

	// connectHook, when set, runs on every new connection of the journal's
	// writer (tests register a commit hook there to make COMMIT fail, as on
	// a full disk).
	connectHook func(*sqlite3.SQLiteConn) error
}

// DefaultConfig returns the defaults of every field.
func DefaultConfig() Config {
	return Config{
		Sync:               SyncFull,
		BusyTimeout:        5 * time.Second,
		FirstQuery:         3500 * time.Millisecond,
		QueryInterval:      3500 * time.Millisecond,
		PayDeadline:        60 * time.Second,
		ScanTimeout:        15 * time.Minute,
		BackoffMin:         2 * time.Second,
		BackoffMax:         5 * time.Minute,
		CancelGrace:        15 * time.Minute,
		CallTimeout:        60 * time.Second,
		Expiry:             7 * 24 * time.Hour,
		MaxOpen:            1000,
		MaxConcurrentCalls: 16,
		SubscriberBuffer:   1024,
		Now:                time.Now,
		Rand:               rand.Reader,
		Logger:             slog.New(slog.DiscardHandler),
	}
}

// withDefaults fills zero fields from DefaultConfig and validates the rest.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	fill(&c.Sync, d.Sync)
	fillDur(&c.BusyTimeout, d.BusyTimeout)
	fillDur(&c.FirstQuery, d.FirstQuery)
	fillDur(&c.QueryInterval, d.QueryInterval)
	fillDur(&c.PayDeadline, d.PayDeadline)
	fillDur(&c.ScanTimeout, d.ScanTimeout)
	fillDur(&c.BackoffMin, d.BackoffMin)
	fillDur(&c.BackoffMax, d.BackoffMax)
	fillDur(&c.CancelGrace, d.CancelGrace)
	fillDur(&c.CallTimeout, d.CallTimeout)
	fillDur(&c.Expiry, d.Expiry)
	if c.MaxOpen == 0 {
		c.MaxOpen = d.MaxOpen
	}
	if c.MaxConcurrentCalls <= 0 {
		c.MaxConcurrentCalls = d.MaxConcurrentCalls
	}
	if c.SubscriberBuffer <= 0 {
		c.SubscriberBuffer = d.SubscriberBuffer
	}
	if c.Clock == nil {
		if c.Now == nil {
			c.Now = d.Now
		}
		c.Clock = funcClock(c.Now)
	}
	c.Now = c.Clock.Now
	if c.Rand == nil {
		c.Rand = d.Rand
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c, c.validate()
}

func (c Config) validate() error {
	switch {
	case c.Sync != SyncFull && c.Sync != SyncNormal:
		return &ConfigError{Field: "Sync", Reason: fmt.Sprintf("%q is not FULL or NORMAL", c.Sync)}
	case c.BackoffMax < c.BackoffMin:
		return &ConfigError{Field: "BackoffMax", Reason: "shorter than BackoffMin"}
	case c.PayDeadline < c.FirstQuery:
		return &ConfigError{Field: "PayDeadline", Reason: "shorter than FirstQuery"}
	case c.MaxAttempts < 0:
		return &ConfigError{Field: "MaxAttempts", Reason: "negative"}
	}
	for cur, max := range c.MaxPendingAmount {
		if max <= 0 {
			return &ConfigError{Field: "MaxPendingAmount", Reason: cur + ": not positive"}
		}
	}
	return nil
}

func fill[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

func fillDur(p *time.Duration, def time.Duration) {
	if *p <= 0 {
		*p = def
	}
}
