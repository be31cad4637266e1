package devices

import (
	"context"
	"io"
	"sync"
	"time"
)

// Backoff is the wait between reopen attempts: Min doubling up to Max.
// Zero values mean 200 ms and 5 s.
type Backoff struct {
	Min, Max time.Duration
}

// Delay returns the wait before attempt n (0-based).
func (b Backoff) Delay(n int) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 200 * time.Millisecond
	}
	if hi < lo {
		hi = max(lo, 5*time.Second)
	}
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// Wait sleeps Delay(n) or until ctx ends, returning ctx.Err() then.
func (b Backoff) Wait(ctx context.Context, n int) error {
	t := time.NewTimer(b.Delay(n))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// DeviceState is a configured device's current state, for diagnostics.
type DeviceState struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`     // "printer" or "scanner"
	Endpoint string `json:"endpoint"` // e.g. "serial:/dev/ttyACM0"
	// State is "connected", "connecting", "stopped", or a printer status
	// summary code ("ok", "unknown", "paper_end"...).
	State  string    `json:"state"`
	Detail string    `json:"detail,omitempty"` // last error, masked of secrets
	Since  time.Time `json:"since"`
}

// StreamOpener opens a byte stream a scanner reads lines from. Close must
// unblock a pending Read.
type StreamOpener func(ctx context.Context) (io.ReadCloser, error)

// LineScannerConfig configures a LineScanner.
type LineScannerConfig struct {
	// Name is the configured scanner name.
	Name string
	// Source names the endpoint in each Scan, e.g. "serial:/dev/ttyACM0".
	Source string
	// Open opens the stream; it is called again after every failure.
	Open StreamOpener
	// Backoff spaces reopen attempts.
	Backoff Backoff
	// OnError is told about each open or read failure (for logging).
	OnError func(error)
	// MaxLine bounds a line; longer input is discarded (default 512).
	MaxLine int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// LineScanner is a Scanner reading CR- or LF-terminated codes from a byte
// stream: serial and CDC-ACM scanners, network line sources. It reopens
// the stream after unplug, hang-up or disconnect.
type LineScanner struct {
	cfg LineScannerConfig

	mu    sync.Mutex
	state DeviceState
}

// NewLineScanner returns a LineScanner; nothing is opened until Run.
func NewLineScanner(cfg LineScannerConfig) *LineScanner {
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = 512
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &LineScanner{cfg: cfg}
	s.state = DeviceState{Name: cfg.Name, Kind: "scanner", Endpoint: cfg.Source, State: "stopped", Since: cfg.Now()}
	return s
}

// Name returns the configured scanner name.
func (s *LineScanner) Name() string { return s.cfg.Name }

// State returns the scanner's current connection state.
func (s *LineScanner) State() DeviceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func (s *LineScanner) setState(state string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.State != state {
		s.state.Since = s.cfg.Now()
	}
	s.state.State = state
	s.state.Detail = ""
	if err != nil {
		s.state.Detail = err.Error()
	}
}

// Run reads scans into out until ctx ends, reopening after failures.
func (s *LineScanner) Run(ctx context.Context, out chan<- Scan) error {
	if s.cfg.Open == nil {
		return Errorf(CodeConfig, s.cfg.Name, "scanner has no backend")
	}
	defer s.setState("stopped", nil)
	for attempt := 0; ; {
		s.setState("connecting", nil)
		rc, err := s.cfg.Open(ctx)
		if err == nil {
			s.setState("connected", nil)
			attempt = 0
			err = s.readLines(ctx, rc, out)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.report(err)
		if werr := s.cfg.Backoff.Wait(ctx, attempt); werr != nil {
			return werr
		}
		attempt++
	}
}

func (s *LineScanner) report(err error) {
	s.setState("connecting", err)
	if s.cfg.OnError != nil && err != nil {
		s.cfg.OnError(err)
	}
}

// readLines reads rc until it fails or ctx ends, sending each line.
func (s *LineScanner) readLines(ctx context.Context, rc io.ReadCloser, out chan<- Scan) error {
	stop := context.AfterFunc(ctx, func() { _ = rc.Close() })
	defer stop()
	defer rc.Close()
	buf := make([]byte, 256)
	var line []byte
	overflow := false
	for {
		n, err := rc.Read(buf)
		for _, c := range buf[:n] {
			if c != '\r' && c != '\n' {
				if len(line) >= s.cfg.MaxLine {
					overflow = true
					continue
				}
				line = append(line, c)
				continue
			}
			if len(line) > 0 && !overflow {
				if !s.send(ctx, out, string(line)) {
					return ctx.Err()
				}
			}
			line, overflow = line[:0], false
		}
		if err != nil {
			if err == io.EOF {
				return Errorf(CodeOffline, s.cfg.Source, "stream closed by the scanner")
			}
			return NewError(CodeOffline, s.cfg.Source, err)
		}
	}
}

func (s *LineScanner) send(ctx context.Context, out chan<- Scan, code string) bool {
	sc := Scan{Code: code, At: s.cfg.Now(), Source: s.cfg.Source}
	select {
	case out <- sc:
		return true
	case <-ctx.Done():
		return false
	}
}

// NewSerialScanner returns a scanner reading lines from a serial or
// CDC-ACM port (scanner in "USB COM port" / "USB CDC" mode).
func NewSerialScanner(name string, c SerialConfig, opts LineScannerConfig) *LineScanner {
	opts.Name, opts.Source = name, "serial:"+c.Port
	opts.Open = func(ctx context.Context) (io.ReadCloser, error) {
		return openSerial(c)
	}
	return NewLineScanner(opts)
}

// NewNetworkScanner returns a scanner that dials addr ("host:port") and
// reads lines, reconnecting when the connection drops (a TCP line source,
// e.g. a network scanner base station or a serial-to-Ethernet adapter).
func NewNetworkScanner(name, addr string, opts LineScannerConfig) *LineScanner {
	opts.Name, opts.Source = name, "tcp:"+addr
	opts.Open = func(ctx context.Context) (io.ReadCloser, error) {
		return dialTCP(ctx, addr, DefaultDialTimeout)
	}
	return NewLineScanner(opts)
}
