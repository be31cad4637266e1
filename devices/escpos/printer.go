package escpos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/devices"
)

// DrawerConfig is the cash-drawer kick a printer sends on OpenDrawer.
type DrawerConfig struct {
	Pin      int           // 2 or 5; 0 means 2
	On, Off  time.Duration // pulse times; 0 means 100 ms on, 500 ms off
	Disabled bool          // no drawer on this printer
}

// PrinterConfig configures an ESC/POS printer driver.
type PrinterConfig struct {
	// Name is the configured printer name (logs, errors, diagnostics).
	Name string
	// Profile is the printer model profile.
	Profile Profile
	// Open opens the transport; it is called again after any error.
	Open devices.Opener
	// OneWay declares a printer that cannot answer status requests
	// (configuration wins over the profile when either is true).
	OneWay bool
	// StatusTimeout bounds the wait for each status reply (default 1 s).
	StatusTimeout time.Duration
	// PrintWhenUnknown lets a two-way printer print when its status is
	// unknown. Default false: fail closed, refuse and say why.
	PrintWhenUnknown bool
	// Drawer is the cash-drawer kick used by OpenDrawer.
	Drawer DrawerConfig
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Printer drives an ESC/POS printer over a reopenable transport. It
// implements devices.Printer, keeps the last printed job for Reprint, and
// is safe for concurrent use (jobs are serialised).
type Printer struct {
	cfg PrinterConfig

	mu   sync.Mutex
	t    devices.Transport
	last []byte
}

// NewPrinter validates cfg and returns a driver. No device is opened until
// the first Print or Status.
func NewPrinter(cfg PrinterConfig) (*Printer, error) {
	if cfg.Name == "" {
		return nil, devices.Errorf(devices.CodeConfig, "", "printer needs a name")
	}
	if cfg.Open == nil {
		return nil, devices.Errorf(devices.CodeConfig, cfg.Name, "printer needs a backend")
	}
	if err := cfg.Profile.Validate(); err != nil {
		return nil, devices.NewError(devices.CodeConfig, cfg.Name, err)
	}
	if cfg.StatusTimeout <= 0 {
		cfg.StatusTimeout = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.OneWay = cfg.OneWay || cfg.Profile.OneWay
	return &Printer{cfg: cfg}, nil
}

// Name returns the configured printer name.
func (p *Printer) Name() string { return p.cfg.Name }

// Profile returns the printer's profile.
func (p *Printer) Profile() Profile { return p.cfg.Profile }

// OneWay reports whether the printer is declared one-way.
func (p *Printer) OneWay() bool { return p.cfg.OneWay }

// Close closes the transport; the next Print or Status reopens it.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.drop()
}

// Print checks the status (two-way printers), then writes job. It refuses
// with a "not_ready" *devices.DeviceError (see devices.StatusOf) when the
// printer has paper end, cover open, a cutter error, is offline, or does
// not answer. A successful job is kept for Reprint.
func (p *Printer) Print(ctx context.Context, job []byte) error {
	if len(job) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.checkReady(ctx); err != nil {
		return err
	}
	if err := p.write(ctx, job); err != nil {
		return err
	}
	p.last = bytes.Clone(job)
	return nil
}

// Reprint prints the last successful job again (status checked as for
// Print). It fails with "not_found" when nothing was printed since start.
func (p *Printer) Reprint(ctx context.Context) error {
	p.mu.Lock()
	job := p.last
	p.mu.Unlock()
	if job == nil {
		return devices.Errorf(devices.CodeNotFound, p.cfg.Name, "no receipt printed yet")
	}
	return p.Print(ctx, job)
}

// LastJob returns a copy of the last successful job, or nil.
func (p *Printer) LastJob() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.last)
}

// OpenDrawer kicks the cash drawer with the configured pin and pulses. The
// kick is not stored as the last job, so a reprint never opens the drawer.
func (p *Printer) OpenDrawer(ctx context.Context) error {
	d := p.cfg.Drawer
	if d.Disabled {
		return devices.Errorf(devices.CodeUnsupported, p.cfg.Name, "no cash drawer configured")
	}
	pin, on, off := d.Pin, d.On, d.Off
	if pin == 0 {
		pin = DrawerPin2
	}
	if on == 0 {
		on = 100 * time.Millisecond
	}
	if off == 0 {
		off = 500 * time.Millisecond
	}
	job, err := NewEncoder(p.cfg.Profile).DrawerKick(pin, on, off).Job()
	if err != nil {
		return devices.NewError(devices.CodeConfig, p.cfg.Name, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.write(ctx, job)
}

// checkReady refuses a job unless the printer is ready (two-way) or
// declared one-way.
func (p *Printer) checkReady(ctx context.Context) error {
	if p.cfg.OneWay {
		return nil
	}
	st, err := p.status(ctx)
	if st.Ready() || (!st.Known && p.cfg.PrintWhenUnknown && isTimeout(err)) {
		return nil
	}
	if !st.Known && isTimeout(err) {
		st.Detail = appendDetail(st.Detail, "if this printer is one-way, declare it so in the configuration")
	}
	return devices.NewError(devices.CodeNotReady, p.cfg.Name, &devices.StatusError{Status: st, Err: err})
}

func isTimeout(err error) bool { return errors.Is(err, devices.ErrTimeout) }

// write sends job on an open transport, dropping it on error so the next
// call reopens.
func (p *Printer) write(ctx context.Context, job []byte) error {
	t, err := p.transport(ctx)
	if err != nil {
		return err
	}
	n, err := t.Write(ctx, job)
	if err == nil && n < len(job) {
		err = fmt.Errorf("short write %d of %d bytes", n, len(job))
	}
	if err != nil {
		_ = p.drop()
		return p.wrap(devices.CodeOffline, err)
	}
	return nil
}

// transport returns the open transport, opening it if needed.
func (p *Printer) transport(ctx context.Context) (devices.Transport, error) {
	if p.t != nil {
		return p.t, nil
	}
	t, err := p.cfg.Open(ctx)
	if err != nil {
		return nil, p.wrap(devices.CodeOffline, err)
	}
	p.t = t
	return t, nil
}

// drop closes and forgets the transport.
func (p *Printer) drop() error {
	if p.t == nil {
		return nil
	}
	err := p.t.Close()
	p.t = nil
	return err
}

// wrap returns err unchanged when it already carries a code, else wraps it
// with code.
func (p *Printer) wrap(code string, err error) error {
	var de *devices.DeviceError
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		code = devices.CodeTimeout
	}
	return devices.NewError(code, p.cfg.Name, err)
}
