package soak

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// progress prints the live progress line: on a terminal redrawn in place,
// otherwise one line every ProgressEvery.
type progress struct {
	w     io.Writer
	tty   bool
	every time.Duration
	stats *Stats
	bound time.Duration
	t0    time.Time

	mu    sync.Mutex
	label string
	done  chan struct{}
	wg    sync.WaitGroup
}

func newProgress(cfg *Config, s *Stats) *progress {
	every := cfg.ProgressEvery
	if cfg.TTY {
		every = 500 * time.Millisecond
	}
	if every <= 0 {
		every = 5 * time.Second
	}
	return &progress{w: cfg.Progress, tty: cfg.TTY, every: every, stats: s, bound: cfg.Duration,
		label: "driving", done: make(chan struct{})}
}

func (p *progress) start() {
	p.t0 = time.Now()
	if p.w == nil {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.print()
			}
		}
	}()
}

// stop ends the progress line (a final redraw and newline on a TTY).
func (p *progress) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	p.wg.Wait()
	if p.w != nil && p.tty {
		p.print()
		fmt.Fprintln(p.w)
	}
}

// phase changes the label of the line (driving, settling).
func (p *progress) phase(label string) {
	p.mu.Lock()
	p.label = label
	p.mu.Unlock()
}

// note prints a one-off message (chaos trouble) on its own line.
func (p *progress) note(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := ""
	if p.tty {
		prefix = "\r\033[K"
	}
	fmt.Fprintf(p.w, prefix+"soak: "+format+"\n", args...)
}

func (p *progress) print() {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := p.line(time.Since(p.t0))
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K"+line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// line renders the counters. ETA is the sooner of the rate's estimate and
// the end of the drive bound.
func (p *progress) line(el time.Duration) string {
	s := p.stats
	done, planned := s.Done.Load(), s.Planned.Load()
	eta := max(p.bound-el, 0)
	total := "/" + strconv.FormatInt(planned, 10)
	if planned == 0 {
		total = ""
	} else if done > 0 {
		eta = min(eta, time.Duration(float64(el)*float64(planned-done)/float64(done)))
	}
	return fmt.Sprintf("soak %s %s: sales %d%s, in flight %d, faults %d, kills %d, drops %d, reconnects %d, errors %d, ETA %s",
		el.Truncate(time.Second), p.label, done, total, s.InFlight.Load(), s.Faults.Load(), s.Kills.Load(),
		s.Drops.Load(), s.Reconnects.Load(), s.Errors.Load(), eta.Truncate(time.Second))
}
