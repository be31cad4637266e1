package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// chaos injects the faults: gateway fault windows and daemon kills.
type chaos struct {
	cfg   *Config
	proc  *Proc // nil when attached
	url   string
	http  *http.Client
	stats *Stats
	log   func(format string, args ...any)
}

// run starts the enabled injectors and returns once stop closes and each
// has finished (a killed daemon is always restarted before run returns).
func (c *chaos) run(ctx context.Context, stop <-chan struct{}) {
	var wg sync.WaitGroup
	if c.cfg.Chaos.Faults {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.faults(ctx, stop, rand.New(rand.NewPCG(c.cfg.Seed, 1<<32)))
		}()
	}
	if c.cfg.Chaos.Kills && c.proc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.kills(ctx, stop, rand.New(rand.NewPCG(c.cfg.Seed, 1<<33)))
		}()
	}
	wg.Wait()
}

// jitter returns a duration uniformly in [every/2, every*3/2).
func jitter(r *rand.Rand, every time.Duration) time.Duration {
	return every/2 + time.Duration(r.Int64N(int64(every)+1))
}

// waitOrStop waits d; false when stop or ctx came first.
func waitOrStop(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
	case <-ctx.Done():
	}
	return false
}

// Fault is one gateway fault window, as POST /sandbox/faults takes it.
type Fault struct {
	Kind  string `json:"kind"` // down, slow, system_error
	For   string `json:"for"`
	Delay string `json:"delay,omitempty"`
}

// drawFault picks a fault window: down or system_error for 0.5–3 s, or
// slow (0.3–2 s per call, some beyond the gateway timeout) for 1–5 s.
func drawFault(r *rand.Rand) Fault {
	ms := func(lo, hi int) string { return (time.Duration(lo+r.IntN(hi-lo)) * time.Millisecond).String() }
	switch r.IntN(3) {
	case 0:
		return Fault{Kind: "down", For: ms(500, 3000)}
	case 1:
		return Fault{Kind: "system_error", For: ms(500, 3000)}
	}
	return Fault{Kind: "slow", For: ms(1000, 5000), Delay: ms(300, 2000)}
}

func (c *chaos) faults(ctx context.Context, stop <-chan struct{}, r *rand.Rand) {
	for waitOrStop(ctx, stop, jitter(r, c.cfg.Chaos.FaultEvery)) {
		f := drawFault(r)
		if err := c.setFault(ctx, f); err != nil {
			c.log("fault %s not set: %v", f.Kind, err)
			continue
		}
		c.stats.Faults.Add(1)
	}
}

// setFault opens a fault window through the sandbox's fault API.
func (c *chaos) setFault(ctx context.Context, f Fault) error {
	body, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("fault: %w", err)
	}
	return c.sandboxCall(ctx, http.MethodPost, "/sandbox/faults", body)
}

// clearFaults closes every fault window.
func (c *chaos) clearFaults(ctx context.Context) error {
	return c.sandboxCall(ctx, http.MethodDelete, "/sandbox/faults", nil)
}

func (c *chaos) sandboxCall(ctx context.Context, method, path string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sandbox %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sandbox %s: HTTP %s", path, resp.Status)
	}
	return nil
}

// kills SIGKILLs the daemon at random moments and restarts it on the same
// data after a short random outage.
func (c *chaos) kills(ctx context.Context, stop <-chan struct{}, r *rand.Rand) {
	for waitOrStop(ctx, stop, jitter(r, c.cfg.Chaos.KillEvery)) {
		c.proc.Kill()
		c.stats.Kills.Add(1)
		_ = sleep(ctx, time.Duration(r.IntN(500))*time.Millisecond)
		if err := c.restart(ctx); err != nil {
			c.log("restart failed: %v", err)
			return
		}
	}
}

// restart starts the killed daemon again, retrying a few times (a port
// may linger briefly).
func (c *chaos) restart(ctx context.Context) error {
	var err error
	for range 5 {
		if _, err = c.proc.Start(context.WithoutCancel(ctx)); err == nil {
			return nil
		}
		_ = sleep(ctx, 200*time.Millisecond)
	}
	return err
}
