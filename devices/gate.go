package devices

import (
	"strings"
	"sync"
	"time"
)

// Stable reasons a Gate drops a scan.
const (
	DropNotWaiting = "not_waiting"     // the lane is not waiting for a code
	DropNotAlipay  = "not_alipay_code" // not 16–24 digits starting 25–30
	DropStale      = "stale"           // read before the wait began, or too old
)

// DefaultMaxScanAge is how old a scan may be when offered (5 s, as Odoo's
// IoT box does for keyboard scanners).
const DefaultMaxScanAge = 5 * time.Second

// Drop describes a scan the Gate refused. Masked shows only the last four
// characters of the code; the full code is never reported.
type Drop struct {
	Masked string
	Reason string
	Source string
	At     time.Time
}

// GateConfig configures a Gate.
type GateConfig struct {
	// Lane names the lane, for logs.
	Lane string
	// MaxAge is the oldest acceptable scan (default 5 s).
	MaxAge time.Duration
	// OnDrop is told about every dropped scan (masked).
	OnDrop func(Drop)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Gate is one lane's scan acceptance. A scan is accepted only while the
// lane is armed (waiting for a customer code), only if it looks like an
// Alipay payment code, and only if it was read after Arm and is not older
// than MaxAge. Acceptance disarms the gate: one wait takes one code.
// Gate is safe for concurrent use.
type Gate struct {
	cfg GateConfig

	mu      sync.Mutex
	armed   bool
	armedAt time.Time
}

// NewGate returns a disarmed Gate.
func NewGate(cfg GateConfig) *Gate {
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxScanAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Gate{cfg: cfg}
}

// Arm starts a wait at now; scans read before now are stale.
func (g *Gate) Arm(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.armedAt = true, now
}

// Disarm ends the wait; later scans are dropped as not_waiting.
func (g *Gate) Disarm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed = false
}

// Armed reports whether the gate is waiting for a code.
func (g *Gate) Armed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.armed
}

// Offer checks s. It returns accepted=true with an empty reason, or false
// with a stable drop reason (after telling OnDrop). Use Take to also get
// the cleaned code.
func (g *Gate) Offer(s Scan) (accepted bool, reason string) {
	_, ok, reason := g.Take(s)
	return ok, reason
}

// Take is Offer returning the accepted code, trimmed of CR, LF and spaces.
func (g *Gate) Take(s Scan) (code string, accepted bool, reason string) {
	code = CleanCode(s.Code)
	g.mu.Lock()
	reason = g.check(code, s.At)
	if reason == "" {
		g.armed = false
	}
	g.mu.Unlock()
	if reason != "" {
		g.drop(code, reason, s)
		return "", false, reason
	}
	return code, true, ""
}

// check returns the drop reason for code read at at, or ""; caller holds mu.
func (g *Gate) check(code string, at time.Time) string {
	switch {
	case !g.armed:
		return DropNotWaiting
	case !IsAlipayCode(code):
		return DropNotAlipay
	case at.IsZero(), at.Before(g.armedAt), g.cfg.Now().Sub(at) > g.cfg.MaxAge:
		return DropStale
	}
	return ""
}

func (g *Gate) drop(code, reason string, s Scan) {
	if g.cfg.OnDrop == nil {
		return
	}
	g.cfg.OnDrop(Drop{Masked: MaskCode(code), Reason: reason, Source: s.Source, At: s.At})
}

// CleanCode trims whitespace, CR and LF around a scanned code.
func CleanCode(s string) string { return strings.TrimSpace(s) }

// IsAlipayCode reports whether s looks like an Alipay payment code: 16 to
// 24 ASCII digits starting with 25, 26, 27, 28, 29 or 30.
func IsAlipayCode(s string) bool {
	if len(s) < 16 || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	p := (s[0]-'0')*10 + (s[1] - '0')
	return p >= 25 && p <= 30
}

// MaskCode hides all but the last four characters of a code, keeping its
// length visible: "286012345678901234" → "**************1234". Codes of four
// characters or fewer are hidden entirely.
func MaskCode(s string) string {
	r := []rune(s)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}
