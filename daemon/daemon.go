package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/tillbridge/tillbridge/daemon/datalock"
	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// Shutdown budget: the service manager gives a stopping service a few
// seconds; the daemon closes within ShutdownTimeout in all.
const (
	ShutdownTimeout = 5 * time.Second
	// DefaultPrintTimeout bounds one receipt print.
	DefaultPrintTimeout = 5 * time.Second
)

// Options are the parts of a Daemon that do not come from the config file:
// what tests, the sandbox mode and the service wrapper inject. The zero
// value is ready for production use.
type Options struct {
	// Logger receives the daemon's log; the zero value logs nothing.
	Logger zerolog.Logger
	// Gateway replaces the Alipay client built from [gateway] (tests,
	// benchmarks, a relay to a central server).
	Gateway queue.Gateway
	// Listeners replace the [[listen]] entries: already-open listeners
	// the ECR server serves (tests use 127.0.0.1:0).
	Listeners []net.Listener
	// Printers and Scanners replace the devices built from the config, by
	// printer / scanner name.
	Printers map[string]devices.Printer
	Scanners map[string]devices.Scanner
	// Server tunes the ECR server (timeouts, limits); Handler and Logger
	// are set by the daemon.
	Server ecrproto.ServerOptions
	// Journal tunes the engine beyond the config (Sync, Now, Hook…); the
	// [payment] timings are laid over it.
	Journal queue.Config
	// PrintTimeout bounds one receipt print (DefaultPrintTimeout).
	PrintTimeout time.Duration
	// Version is reported by the status snapshot.
	Version string
	// OnReady is called once the handler is installed, with the ECR
	// listeners' addresses.
	OnReady func(addrs []net.Addr)
	// DataLock is the data directory's lock when the caller took it
	// already (sandbox mode locks before its gateway touches the folder);
	// the caller releases it. Nil: Run takes the lock itself, first of
	// all, and releases it when it returns.
	DataLock *datalock.Lock

	// beforeHandler, set by tests of this package, runs after start-up and
	// before the handler is installed (the window where ECRs hear
	// E_UNAVAILABLE).
	beforeHandler func()
}

// Daemon is the running tillbridge: ECR server, journal engine, gateway,
// lanes and their devices. Build it with [New], run it with [Daemon.Run].
type Daemon struct {
	cfg  *Config
	opts Options
	log  zerolog.Logger

	srv       *ecrproto.Server
	listeners []net.Listener
	eng       *queue.Engine
	gw        queue.Gateway
	lanes     map[string]*lane
	laneOrder []string

	started  time.Time
	ready    atomic.Bool
	stopCtx  context.Context // ends when shutdown begins (prints, waits)
	stopping <-chan struct{} // stopCtx.Done()
	stop     context.CancelFunc
	work     context.Context // outlives connections; cancelled at the very end
	stopWork context.CancelFunc
	bg       sync.WaitGroup // the engine's scheduler, scanners and sale runners

	recon *reconJob // the daily reconciliation (daemon/recon_job.go); nil when off

	console consoleState // the browser console (daemon/console.go)
}

// New checks cfg and prepares a Daemon; it opens nothing yet (Run does, in
// the documented order).
func New(cfg *Config, opts Options) (*Daemon, error) {
	if cfg == nil {
		return nil, errors.New("daemon: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Daemon.DataDir == "" {
		return nil, &FieldError{Field: "daemon.data_dir", Err: ErrRequired}
	}
	if opts.PrintTimeout <= 0 {
		opts.PrintTimeout = DefaultPrintTimeout
	}
	work, stopWork := context.WithCancel(context.Background())
	stopCtx, stop := context.WithCancel(work)
	return &Daemon{cfg: cfg, opts: opts, log: opts.Logger, stopCtx: stopCtx, stopping: stopCtx.Done(),
		stop: stop, work: work, stopWork: stopWork, lanes: map[string]*lane{}}, nil
}

// Run starts the daemon and serves until ctx ends, then shuts down within
// ShutdownTimeout. Start-up order: the data directory's lock first (a
// second daemon on the same data directory fails here with a
// *datalock.HeldError naming the holder, before it touches anything),
// then the ECR listeners (requests hear E_UNAVAILABLE until ready), the
// control API, the gateway client, the journal engine, the lanes' devices,
// and last the sale-flow handler. A nil return means a clean stop.
func (d *Daemon) Run(ctx context.Context) (err error) {
	d.started = time.Now()
	release, err := d.lockData()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, release()) }()
	if err := d.listen(ctx); err != nil {
		return err
	}
	d.startControl(ctx) // technician control API (daemon/control_backend.go); never fatal
	d.startConsole(ctx) // browser console when [console] enabled (daemon/console.go); never fatal
	serveErr := make(chan error, len(d.listeners))
	for _, ln := range d.listeners {
		go func() { serveErr <- d.srv.Serve(ln) }()
	}
	if err := d.startUp(ctx); err != nil {
		d.shutdown()
		return err
	}
	if d.opts.beforeHandler != nil {
		d.opts.beforeHandler()
	}
	d.srv.SetHandler(d)
	d.startRecon() // daemon/control_recon.go; never fatal
	d.ready.Store(true)
	d.log.Info().Bool("lifecycle", true).Strs("ecr", d.addrStrings()).Int("lanes", len(d.lanes)).Msg("tillbridge ready")
	if d.opts.OnReady != nil {
		d.opts.OnReady(d.Addrs())
	}
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("ecr listener stopped: %w", err)
	}
	d.shutdown()
	return err
}

// lockData takes the data directory's lock unless Options.DataLock holds
// it already, and returns the function that releases what it took.
func (d *Daemon) lockData() (release func() error, err error) {
	dir := d.cfg.Daemon.DataDir
	if l := d.opts.DataLock; l != nil {
		if filepath.Clean(dir) != l.Dir() {
			return nil, fmt.Errorf("daemon: the data lock held is on %s, not on the data directory %s", l.Dir(), dir)
		}
		return func() error { return nil }, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	l, err := datalock.Acquire(dir)
	if err != nil {
		return nil, err
	}
	return l.Release, nil
}

// startUp opens the gateway, the journal engine and the lanes.
func (d *Daemon) startUp(ctx context.Context) error {
	gw, err := d.openGateway()
	if err != nil {
		return err
	}
	d.gw = gw
	if err := d.openEngine(ctx); err != nil {
		return err
	}
	return d.openLanes(ctx)
}

// shutdown stops accepting, tells waiting ECRs to ask STATUS later, lets
// the journal hold what is in flight, and closes everything within
// ShutdownTimeout.
func (d *Daemon) shutdown() {
	d.stop()
	d.ready.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout-500*time.Millisecond)
	defer cancel()
	srvCtx, srvCancel := context.WithTimeout(ctx, 2*time.Second)
	if err := d.srv.Shutdown(srvCtx); err != nil {
		d.log.Warn().Err(err).Msg("ecr server did not drain in time; closed")
	}
	srvCancel()
	d.stopWork()
	d.bg.Wait()
	if d.eng != nil {
		if err := d.eng.Close(ctx); err != nil {
			d.log.Warn().Err(err).Msg("journal close")
		}
	}
	d.closeDevices()
	d.log.Info().Bool("lifecycle", true).Msg("tillbridge stopped")
}

// Addrs returns the ECR listeners' addresses (valid once Run listens).
func (d *Daemon) Addrs() []net.Addr {
	out := make([]net.Addr, len(d.listeners))
	for i, ln := range d.listeners {
		out[i] = ln.Addr()
	}
	return out
}

func (d *Daemon) addrStrings() []string {
	var out []string
	for _, a := range d.Addrs() {
		out = append(out, a.Network()+":"+a.String())
	}
	return out
}

// Ready reports whether the sale-flow handler is installed.
func (d *Daemon) Ready() bool { return d.ready.Load() }

// Config returns the configuration the daemon runs with (read-only).
func (d *Daemon) Config() *Config { return d.cfg }

// Engine returns the journal engine (nil before start-up), for the control
// API: queue list/show/retry/resolve and export.
func (d *Daemon) Engine() *queue.Engine { return d.eng }

// isStopping reports whether shutdown has begun.
func (d *Daemon) isStopping() bool {
	select {
	case <-d.stopping:
		return true
	default:
		return false
	}
}
