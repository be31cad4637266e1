package installer

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/kardianos/service"
)

// Start starts the installed service and waits (bounded) until the service
// manager reports it running.
func Start(ctx context.Context, name string) error { return newOps(nil).startService(ctx, name) }

// Stop stops the service and waits (bounded) until it has stopped.
func Stop(ctx context.Context, name string) error { return newOps(nil).stopService(ctx, name) }

// Restart stops the service (if running) and starts it again.
func Restart(ctx context.Context, name string) error {
	o := newOps(nil)
	if err := o.stopService(ctx, name); err != nil {
		return err
	}
	return o.startService(ctx, name)
}

// Uninstall stops the service, removes it and waits (bounded) until the
// service manager no longer knows it; on Linux it also removes the udev
// rules. Configuration, data, logs and the service account stay, on
// purpose: the journal is the audit trail.
func Uninstall(ctx context.Context, p Plan, out io.Writer) error {
	return newOps(out).uninstall(ctx, p)
}

// control returns a handle on the installed service, after the same
// checks as install (root or administrator).
func (o *ops) control(ctx context.Context, name string) (serviceControl, ServiceState, error) {
	if err := o.h.preflight(Plan{OS: runtime.GOOS, Name: name}); err != nil {
		return nil, ServiceState{}, err
	}
	st, err := o.h.status(ctx, name)
	if err != nil {
		return nil, st, err
	}
	if !st.Installed() {
		return nil, st, ErrNotInstalled
	}
	s, err := o.h.service(&service.Config{Name: name})
	return s, st, err
}

func (o *ops) startService(ctx context.Context, name string) error {
	s, st, err := o.control(ctx, name)
	if err != nil || st.State == StateRunning {
		return err
	}
	if st.State == StateFailed && runtime.GOOS == "linux" {
		// After the start limit systemd refuses starts until reset.
		if err := o.h.run(ctx, "systemctl", "reset-failed", name+".service"); err != nil {
			return fmt.Errorf("reset the failed state of %s: %w", name, err)
		}
	}
	if err := bounded(ctx, o.start, s.Start); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return o.waitFor(ctx, name, "running", o.start, func(st ServiceState) (bool, error) {
		if st.State == StateFailed {
			return false, fmt.Errorf("service %s failed to start: %s (see the log and `tillbridge status`)", name, st.Detail)
		}
		return st.State == StateRunning, nil
	})
}

func (o *ops) stopService(ctx context.Context, name string) error {
	s, st, err := o.control(ctx, name)
	if err != nil || st.State == StateStopped || st.State == StateFailed {
		return err
	}
	fmt.Fprintf(o.out, "- stop service %s\n", name)
	if err := bounded(ctx, o.stop, s.Stop); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	return o.waitFor(ctx, name, "stopped", o.stop, func(st ServiceState) (bool, error) {
		return st.State == StateStopped || st.State == StateFailed || st.State == StateNotInstalled, nil
	})
}

func (o *ops) uninstall(ctx context.Context, p Plan) error {
	if err := o.stopService(ctx, p.Name); err != nil {
		return err
	}
	s, _, err := o.control(ctx, p.Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "- remove service %s\n", p.Name)
	if err := bounded(ctx, o.gone, s.Uninstall); err != nil {
		return fmt.Errorf("remove %s: %w", p.Name, err)
	}
	err = o.waitFor(ctx, p.Name, "removed", o.gone, func(st ServiceState) (bool, error) {
		return !st.Installed(), nil
	})
	if err != nil {
		return err
	}
	if p.OS == "linux" && p.UdevRulesFile != "" {
		o.removeUdev(ctx, p.UdevRulesFile)
	}
	fmt.Fprintf(o.out, "\nUninstalled. Kept on purpose: %s, %s (the payment journal), %s", p.Paths.Config, p.Paths.Data, p.Paths.Logs)
	if p.User != "" {
		fmt.Fprintf(o.out, " and the account %s", p.User)
	}
	fmt.Fprintln(o.out, ".")
	return nil
}

// removeUdev removes the udev rules; failures are warnings.
func (o *ops) removeUdev(ctx context.Context, file string) {
	removed, err := o.h.removeFile(file)
	switch {
	case err != nil:
		fmt.Fprintf(o.out, "- remove %s: WARNING: %v (remove it by hand)\n", file, err)
	case removed:
		fmt.Fprintf(o.out, "- removed %s\n", file)
		if err := o.h.run(ctx, "udevadm", "control", "--reload-rules"); err != nil {
			fmt.Fprintf(o.out, "- reload udev: WARNING: %v\n  as root, run: udevadm control --reload-rules\n", err)
		}
	}
}

// waitFor polls the service state every o.poll until done says so, done
// fails, ctx ends or bound passes.
func (o *ops) waitFor(ctx context.Context, name, want string, bound time.Duration,
	done func(ServiceState) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	tick := time.NewTicker(o.poll)
	defer tick.Stop()
	for {
		st, err := o.h.status(ctx, name)
		if err == nil {
			ok, derr := done(st)
			if derr != nil || ok {
				return derr
			}
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return &TimeoutError{Name: name, Want: want, Waited: bound, Last: st}
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// bounded runs fn (a service-manager call that may block: systemctl stop
// waits for the daemon, and kardianos/service's Windows stop can wait
// forever) for at most d. A call still running after d is abandoned.
func bounded(ctx context.Context, d time.Duration, fn func() error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- fn() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return fmt.Errorf("service manager did not answer within %s: %w", d, ctx.Err())
	}
}
