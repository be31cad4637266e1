package devices

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// SimPrinter is an in-memory ESC/POS printer for `tillbridge run --sandbox`
// and tests. It records every byte printed, answers DLE EOT status requests
// from a scriptable status, and can be silenced (no replies) or unplugged
// (open and I/O fail until Plug).
type SimPrinter struct {
	name string

	mu         sync.Mutex
	status     PrinterStatus
	silent     bool
	unplugged  bool
	generation int
	printed    bytes.Buffer
	replies    chan byte
	gone       chan struct{} // closed by Unplug, replaced by Plug
	opens      int
}

// NewSimPrinter returns a simulated printer that is online with paper.
func NewSimPrinter(name string) *SimPrinter {
	return &SimPrinter{
		name:    name,
		status:  PrinterStatus{Known: true, Online: true},
		replies: make(chan byte, 64),
		gone:    make(chan struct{}),
	}
}

// SetStatus scripts the state the printer reports (Known is ignored; a
// silent printer is made with SetSilent).
func (s *SimPrinter) SetStatus(st PrinterStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = st
}

// SetSilent makes the printer ignore status requests, like a one-way or
// hung printer.
func (s *SimPrinter) SetSilent(silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = silent
}

// Unplug breaks open transports and makes opens fail until Plug.
func (s *SimPrinter) Unplug() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.unplugged {
		close(s.gone)
	}
	s.unplugged = true
	s.generation++
}

// Plug makes the printer reachable again (transports opened before the
// unplug stay broken, as after a real power cycle).
func (s *SimPrinter) Plug() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unplugged {
		s.gone = make(chan struct{})
	}
	s.unplugged = false
}

// Printed returns every non-status byte received so far.
func (s *SimPrinter) Printed() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.printed.Bytes())
}

// Opens returns how many times the printer was opened.
func (s *SimPrinter) Opens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens
}

// Opener returns the Opener for this printer.
func (s *SimPrinter) Opener() Opener {
	return func(ctx context.Context) (Transport, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.unplugged {
			return nil, Errorf(CodeNotFound, "sim:"+s.name, "simulated printer unplugged")
		}
		s.opens++
		for len(s.replies) > 0 { // a fresh connection has no stale replies
			<-s.replies
		}
		return &simTransport{p: s, gen: s.generation, gone: s.gone}, nil
	}
}

type simTransport struct {
	p    *SimPrinter
	gen  int
	gone <-chan struct{}
}

func (t *simTransport) String() string { return "sim:" + t.p.name }

func (t *simTransport) Close() error { return nil }

// alive reports whether the transport survived every unplug; caller holds mu.
func (t *simTransport) alive() bool { return !t.p.unplugged && t.gen == t.p.generation }

// Write treats a write of exactly DLE EOT n as a status request (that is
// how the driver sends them) and records everything else as printed.
func (t *simTransport) Write(ctx context.Context, b []byte) (int, error) {
	s := t.p
	s.mu.Lock()
	defer s.mu.Unlock()
	if !t.alive() {
		return 0, Errorf(CodeOffline, t.String(), "simulated printer unplugged")
	}
	if len(b) == 3 && b[0] == 0x10 && b[1] == 0x04 && b[2] >= 1 && b[2] <= 4 {
		if !s.silent {
			select {
			case s.replies <- simStatusByte(int(b[2]), s.status):
			default:
			}
		}
		return len(b), nil
	}
	s.printed.Write(b)
	return len(b), nil
}

func (t *simTransport) Read(ctx context.Context, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	select {
	case c := <-t.p.replies:
		b[0] = c
		return 1, nil
	case <-t.gone:
		return 0, Errorf(CodeOffline, t.String(), "simulated printer unplugged")
	case <-ctx.Done():
		return 0, NewError(CodeTimeout, t.String(), ctx.Err())
	}
}

// simStatusByte encodes st as the reply to DLE EOT n (Epson bit layout:
// fixed bits 0x12; n=1 offline 0x08, drawer 0x04; n=2 cover 0x04, paper
// stop 0x20, error 0x40; n=3 cutter 0x08; n=4 near end 0x0c, end 0x60).
func simStatusByte(n int, st PrinterStatus) byte {
	b := byte(0x12)
	set := func(cond bool, bits byte) {
		if cond {
			b |= bits
		}
	}
	switch n {
	case 1:
		set(!st.Online, 0x08)
		set(st.DrawerOpen, 0x04)
	case 2:
		set(st.CoverOpen, 0x04)
		set(st.PaperEnd, 0x20)
		set(st.CutterError, 0x40)
	case 3:
		set(st.CutterError, 0x08)
	case 4:
		set(st.PaperNearEnd, 0x0c)
		set(st.PaperEnd, 0x60)
	}
	return b
}

// SimScanner is a channel-fed Scanner for the sandbox run and tests.
type SimScanner struct {
	name string
	feed chan Scan
	now  func() time.Time
}

// NewSimScanner returns a simulated scanner; now may be nil (time.Now).
func NewSimScanner(name string, now func() time.Time) *SimScanner {
	if now == nil {
		now = time.Now
	}
	return &SimScanner{name: name, feed: make(chan Scan, 16), now: now}
}

// Name returns the scanner name.
func (s *SimScanner) Name() string { return s.name }

// Feed simulates a read of code; it blocks while 16 reads are pending.
func (s *SimScanner) Feed(ctx context.Context, code string) error {
	select {
	case s.feed <- Scan{Code: code, At: s.now(), Source: "sim:" + s.name}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run forwards fed reads to out until ctx ends.
func (s *SimScanner) Run(ctx context.Context, out chan<- Scan) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case sc := <-s.feed:
			select {
			case out <- sc:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}
