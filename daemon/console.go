package daemon

import (
	"context"
	"path/filepath"
	"sync/atomic"

	"github.com/tillbridge/tillbridge/console"
	"github.com/tillbridge/tillbridge/control"
)

// consoleState is the daemon's part of the browser console: the
// in-process control API it shares with the control server, and the
// console server once it listens.
type consoleState struct {
	local   *control.Local
	watched bool // the control server feeds local's gateway health
	srv     atomic.Pointer[console.Server]
}

var _ control.ConsoleBackend = (*Daemon)(nil)

// startConsole opens the browser console when [console] enabled is set and
// serves it until shutdown begins. Like the control API, a console that
// cannot start is logged, never fatal.
func (d *Daemon) startConsole(ctx context.Context) {
	cfg := d.cfg.Console
	if !cfg.Enabled {
		return
	}
	local := d.console.local
	if local == nil { // startControl runs first; this keeps the order optional
		local = control.NewLocal(d, d.log)
	}
	srv, err := console.New(cfg, local, console.Options{Logger: d.log,
		ReconDB: filepath.Join(d.cfg.Daemon.DataDir, ReconFile)})
	if err != nil {
		d.log.Error().Err(err).Msg("console not available; payments are not affected")
		return
	}
	listener, err := srv.Listen(ctx)
	if err != nil {
		d.log.Error().Err(err).Str("console", cfg.ListenAddr()).Msg("console not available; payments are not affected")
		return
	}
	d.console.srv.Store(srv)
	d.log.Info().Str("console", listener.Addr().String()).Bool("tls", cfg.TLS()).
		Msg("browser console listening (tillbridge console prints a login link)")
	if !d.console.watched {
		d.bg.Add(1)
		go func() {
			defer d.bg.Done()
			local.Watch(d.stopCtx)
		}()
	}
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		if err := srv.Serve(d.stopCtx, listener); err != nil && d.stopCtx.Err() == nil {
			d.log.Error().Err(err).Msg("console stopped")
		}
	}()
}

// ConsoleToken mints a one-time console login link
// (control.ConsoleBackend): POST /v1/console/token.
func (d *Daemon) ConsoleToken(ctx context.Context) (control.ConsoleLogin, error) {
	srv := d.console.srv.Load()
	if srv == nil {
		if !d.cfg.Console.Enabled {
			return control.ConsoleLogin{}, control.Errorf(control.CodeUnsupported,
				"the browser console is off: set [console] enabled = true (docs/console.md)")
		}
		return control.ConsoleLogin{}, control.Errorf(control.CodeUnavailable,
			"the browser console could not start (see the daemon's log)")
	}
	return srv.Login(ctx)
}
