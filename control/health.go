package control

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/queue"
)

// Gateway reachability values.
const (
	ReachableYes     = "yes"
	ReachableNo      = "no"
	ReachableUnknown = "unknown"
)

// readyPoll is how often the control server looks whether the daemon has
// finished starting (to subscribe to the journal).
const readyPoll = 100 * time.Millisecond

// failureCodes are gateway answers that mean the gateway cannot be used:
// Alipay is down, or it refuses this merchant's requests outright.
var failureCodes = map[string]bool{
	"SYSTEM_ERROR": true, "ILLEGAL_SIGN": true, "ILLEGAL_PARTNER": true, "ILLEGAL_SIGN_TYPE": true,
	"ILLEGAL_PARTNER_EXTERFACE": true, "ILLEGAL_EXTERFACE": true, "HAS_NO_PRIVILEGE": true,
}

// gatewayTracker remembers the last answered and the last failed gateway
// call, from the journal's events and from gateway checks.
type gatewayTracker struct {
	mu sync.Mutex
	h  GatewayHealth
}

// observe records one journal event if it is a gateway answer.
func (t *gatewayTracker) observe(ev queue.Event) {
	if ev.Call == queue.CallNone || ev.Name == queue.EventSent || ev.Name == queue.EventAttempt {
		return
	}
	errText, failed := strings.CutPrefix(errorPart(ev.Detail), "error: ")
	if failed || failureCodes[ev.Code] {
		t.fail(ev.At, ev.Code, firstNonEmptyStr(errText, ev.Code))
		return
	}
	t.ok(ev.At, string(ev.Call))
}

// errorPart returns the "error: …" part of an event detail, or "".
func errorPart(detail string) string {
	if i := strings.Index(detail, "error: "); i >= 0 {
		return detail[i:]
	}
	return ""
}

func (t *gatewayTracker) ok(at time.Time, call string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at.After(t.h.LastOK) {
		t.h.LastOK, t.h.LastOKCall = at, call
	}
}

func (t *gatewayTracker) fail(at time.Time, code, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at.After(t.h.LastFail) {
		t.h.LastFail, t.h.LastCode, t.h.LastFailMsg = at, code, clipText(reason, 300)
	}
}

// checked records a gateway check's outcome.
func (t *gatewayTracker) checked(r GatewayCheckResult) {
	if r.Verdict == VerdictOK || r.Verdict == VerdictClockSkew {
		t.ok(r.At, "gateway-check")
		return
	}
	t.fail(r.At, r.Code, r.Verdict+": "+firstNonEmptyStr(r.Error, r.Advice))
}

// health returns base (URL, partner, sign type) with what was heard.
func (t *gatewayTracker) health(base GatewayHealth) GatewayHealth {
	t.mu.Lock()
	h := t.h
	t.mu.Unlock()
	h.URL, h.Partner, h.SignType = base.URL, base.Partner, base.SignType
	switch {
	case h.LastOK.IsZero() && h.LastFail.IsZero():
		h.Reachable = ReachableUnknown
	case h.LastFail.After(h.LastOK):
		h.Reachable = ReachableNo
	default:
		h.Reachable = ReachableYes
	}
	return h
}

// watch feeds the tracker from the journal's events once the daemon is
// ready, until ctx ends or the journal closes. It subscribes first and then
// reads back what the journal recorded since `since` (the daemon's start),
// so no call made before the subscription is missed.
func (t *gatewayTracker) watch(ctx context.Context, b Backend, since time.Time) {
	eng := waitJournal(ctx, b)
	if eng == nil {
		return
	}
	sub := eng.Subscribe()
	defer sub.Close()
	t.backfill(ctx, eng, since)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-sub.C():
			if !ok {
				return
			}
			t.observe(ev)
		}
	}
}

// backfillOps bounds the operations whose events backfill reads.
const backfillOps = 50

// backfill observes the events recorded since `since` of the newest and of
// the open operations.
func (t *gatewayTracker) backfill(ctx context.Context, eng Journal, since time.Time) {
	newest, _ := eng.List(ctx, queue.Filter{Limit: backfillOps})
	open, _ := eng.List(ctx, queue.Filter{States: openStates(), Limit: backfillOps})
	for _, op := range append(newest, open...) {
		evs, err := eng.Events(ctx, op.ID)
		if err != nil {
			continue
		}
		for _, ev := range evs {
			if !ev.At.Before(since) {
				t.observe(ev)
			}
		}
	}
}

// waitJournal polls until the backend's journal is available; nil when ctx
// ends first.
func waitJournal(ctx context.Context, b Backend) Journal {
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		if eng, err := b.Journal(); err == nil {
			return eng
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// judge fills the snapshot's verdict: problems make it unhealthy (exit 4
// of `tillbridge status`), warnings do not.
func judge(s *StatusSnapshot) {
	s.Problems, s.Warnings = []string{}, []string{}
	problem := func(f string, a ...any) { s.Problems = append(s.Problems, fmt.Sprintf(f, a...)) }
	warn := func(f string, a ...any) { s.Warnings = append(s.Warnings, fmt.Sprintf(f, a...)) }
	if s.State != DaemonReady {
		problem("the daemon is %s: it does not take payments yet", s.State)
	}
	if n := s.Queue.Manual; n > 0 {
		problem("%d operation(s) in MANUAL need a person: tillbridge queue list --state manual", n)
	}
	judgeGateway(s.Gateway, problem, warn)
	for _, l := range s.Lanes {
		judgeLane(l, problem, warn)
	}
	judgeRecon(s.Reconcile, problem, warn)
	s.Healthy = len(s.Problems) == 0
}

func judgeGateway(g GatewayHealth, problem, warn func(string, ...any)) {
	switch g.Reachable {
	case ReachableNo:
		problem("gateway unreachable: last call failed at %s (%s); run tillbridge gateway-check",
			g.LastFail.Local().Format(time.DateTime), firstNonEmptyStr(g.LastFailMsg, g.LastCode))
	case ReachableUnknown:
		warn("no gateway call since the daemon started; run tillbridge gateway-check")
	}
}

func judgeLane(l LaneStatus, problem, warn func(string, ...any)) {
	if p := l.Printer; p != nil {
		switch {
		case p.OneWay:
		case !p.Ready:
			problem("lane %s: printer %s is not ready: %s%s", l.ID, p.Name, p.State, detailSuffix(p.Detail))
		case p.State == devices.StatusPaperNearEnd:
			warn("lane %s: printer %s: paper near end", l.ID, p.Name)
		}
	}
	if sc := l.Scanner; sc != nil {
		switch sc.State {
		case "stopped":
			problem("lane %s: scanner %s is stopped%s", l.ID, sc.Name, detailSuffix(sc.Detail))
		case "connecting", "disconnected":
			warn("lane %s: scanner %s is %s%s", l.ID, sc.Name, sc.State, detailSuffix(sc.Detail))
		}
	}
}

func detailSuffix(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}

func firstNonEmptyStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// clipText cuts s to at most n bytes.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
