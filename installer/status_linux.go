//go:build linux

package installer

import (
	"context"
	"errors"
	"os/exec"
)

// serviceStatus asks systemd through `systemctl show`.
func serviceStatus(ctx context.Context, name string) (ServiceState, error) {
	out, err := exec.CommandContext(ctx, "systemctl", "show", "-p", systemdProperties, name+".service").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			out = ee.Stderr
		}
		return ServiceState{State: StateUnknown, Restarts: -1},
			&CommandError{Command: "systemctl show " + name + ".service", Output: string(out), Err: err}
	}
	return parseSystemctlShow(string(out)), nil
}
