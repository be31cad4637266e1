package installer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// ExistsError: install refuses to overwrite an installed service.
type ExistsError struct {
	Name  string
	State ServiceState
}

// Error says what to do instead: uninstall first, or upgrade.
func (e *ExistsError) Error() string {
	return fmt.Sprintf("service %s is already installed (%s); to reinstall run `tillbridge uninstall` first; "+
		"to upgrade: `tillbridge stop`, replace the binary, `tillbridge start` (see docs/operations.md, Upgrade)", e.Name, e.State.State)
}

// ErrNotInstalled is returned when a control command finds no service.
var ErrNotInstalled = errors.New("service is not installed (run `tillbridge install`)")

// StepError is a failed install step.
type StepError struct {
	Step string
	Err  error
}

// Error names the step and its failure.
func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// TimeoutError: the service did not reach the wanted state in time.
type TimeoutError struct {
	Name   string
	Want   string
	Waited time.Duration
	Last   ServiceState
}

// Error names the service, the state waited for and the last state seen.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("service %s: not %s after %s (last state: %s %s)", e.Name, e.Want, e.Waited, e.Last.State, e.Last.Detail)
}

// Bounds of the waits, for the real service manager.
const (
	pollInterval = 500 * time.Millisecond
	// stopBound exceeds systemd's TimeoutStopSec (30 s), after which
	// systemd kills the daemon, and the SCM's default 20 s.
	stopBound  = 45 * time.Second
	startBound = 30 * time.Second
	goneBound  = 20 * time.Second
)

// ops runs plans and control commands against a host.
type ops struct {
	h     host
	out   io.Writer
	poll  time.Duration
	stop  time.Duration
	start time.Duration
	gone  time.Duration
}

func newOps(out io.Writer) *ops {
	if out == nil {
		out = io.Discard
	}
	return &ops{h: osHost{}, out: out, poll: pollInterval, stop: stopBound, start: startBound, gone: goneBound}
}

// DryRun writes every step Install would take for p, with the full text of
// every file it would write, without touching the system.
func DryRun(w io.Writer, p Plan) error {
	acts, err := planActions(p)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "tillbridge install --dry-run: %s service %q, nothing is changed.\n", p.OS, p.Name)
	fmt.Fprintf(w, "Paths: config %s, data %s, logs %s", p.Paths.Config, p.Paths.Data, p.Paths.Logs)
	if p.Paths.Run != "" {
		fmt.Fprintf(w, ", runtime %s", p.Paths.Run)
	}
	fmt.Fprintln(w)
	for i, a := range acts {
		fmt.Fprintf(w, "\n%d. %s\n", i+1, a.summary)
		if a.fix != "" {
			fmt.Fprintf(w, "   (if this fails the install goes on; %s)\n", a.fix)
		}
		if a.content != "" {
			fmt.Fprintln(w, "   ----8<----")
			fmt.Fprint(w, a.content)
			fmt.Fprintln(w, "   ---->8----")
		}
	}
	return nil
}

// Install installs p on this machine: account, folders, sample config,
// udev rules and the service definition. It refuses when the service is
// already installed, and with an *UntrustedPathError when the binary or a
// folder above it or above the service's folders is not root-owned or is
// writable by group or others. It does not start the service (see Start). Progress
// goes to out.
func Install(ctx context.Context, p Plan, out io.Writer) error {
	return newOps(out).install(ctx, p)
}

func (o *ops) install(ctx context.Context, p Plan) error {
	acts, err := planActions(p)
	if err != nil {
		return err
	}
	if err := o.h.preflight(p); err != nil {
		return err
	}
	if err := o.h.checkTrusted(p); err != nil {
		return err
	}
	st, err := o.h.status(ctx, p.Name)
	if err != nil {
		return fmt.Errorf("check for an installed service: %w", err)
	}
	if st.Installed() {
		return &ExistsError{Name: p.Name, State: st}
	}
	if err := o.apply(ctx, acts); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "\nInstalled. Edit %s, then start the service: tillbridge start\n", p.Paths.Config)
	return nil
}

// InstallUdevRules (re)writes only the Linux udev rules of p and reloads
// udev: for devices added to the configuration after the install.
func InstallUdevRules(ctx context.Context, p Plan, out io.Writer) error {
	return newOps(out).installUdev(ctx, p)
}

func (o *ops) installUdev(ctx context.Context, p Plan) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.OS != "linux" || p.Group == "" || len(p.USB) == 0 {
		return fmt.Errorf("%w: udev rules need Linux, a service group and at least one --usb VID:PID", ErrInvalidPlan)
	}
	if err := o.h.preflight(p); err != nil {
		return err
	}
	return o.apply(ctx, udevWriteActions(p))
}

// apply runs the steps in order, printing each.
func (o *ops) apply(ctx context.Context, acts []action) error {
	for _, a := range acts {
		if a.apply == nil {
			fmt.Fprintf(o.out, "- %s\n", a.summary)
			continue
		}
		note, err := a.apply(ctx, o.h)
		switch {
		case err != nil && a.fix != "":
			fmt.Fprintf(o.out, "- %s: WARNING: %v\n  %s\n", a.summary, err, a.fix)
		case err != nil:
			fmt.Fprintf(o.out, "- %s: FAILED\n", a.summary)
			return &StepError{Step: a.summary, Err: err}
		case note != "":
			fmt.Fprintf(o.out, "- %s: %s\n", a.summary, note)
		default:
			fmt.Fprintf(o.out, "- %s: done\n", a.summary)
		}
	}
	return nil
}
