package installer

import (
	"context"
	"strconv"
	"strings"
)

// State is the state of the installed service.
type State string

// Service states, as `tillbridge status` shows them.
const (
	StateNotInstalled State = "not-installed"
	StateStopped      State = "stopped"
	StateRunning      State = "running"
	// StateFailed: systemd gave up (crashed, or start limit hit) or the
	// Windows service stopped with an error code.
	StateFailed State = "failed"
	// StateUnknown: installed, but the state could not be read.
	StateUnknown State = "unknown"
)

// ServiceState is what the service manager says about the service.
type ServiceState struct {
	State State `json:"state"`
	// Detail is the manager's own words, e.g. "active (running)",
	// "failed (Result=start-limit-hit)", "stopped (exit code 1)".
	Detail string `json:"detail,omitempty"`
	// Restarts counts automatic restarts since the service was started
	// by hand or at boot (systemd NRestarts); -1 when unknown.
	Restarts int `json:"restarts"`
}

// Installed reports whether the service is installed.
func (s ServiceState) Installed() bool { return s.State != StateNotInstalled }

// ServiceStatus asks the service manager (systemd or the Windows SCM) for
// the state of the named service; name "" means ServiceName. It needs no
// privileges. An error comes with StateUnknown.
func ServiceStatus(ctx context.Context, name string) (ServiceState, error) {
	if name == "" {
		name = ServiceName
	}
	return serviceStatus(ctx, name)
}

func (osHost) status(ctx context.Context, name string) (ServiceState, error) {
	return serviceStatus(ctx, name)
}

// systemdProperties are the unit properties serviceStatus reads.
const systemdProperties = "LoadState,ActiveState,SubState,Result,NRestarts,ExecMainStatus"

// parseSystemctlShow reads `systemctl show -p ...` output (KEY=value
// lines) into a ServiceState.
func parseSystemctlShow(out string) ServiceState {
	props := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			props[k] = v
		}
	}
	st := ServiceState{Restarts: -1, Detail: props["ActiveState"] + " (" + props["SubState"] + ")"}
	if n, err := strconv.Atoi(props["NRestarts"]); err == nil {
		st.Restarts = n
	}
	switch {
	case props["LoadState"] == "not-found" || props["LoadState"] == "":
		return ServiceState{State: StateNotInstalled, Restarts: -1}
	case props["ActiveState"] == "active" || props["ActiveState"] == "activating" || props["ActiveState"] == "reloading":
		st.State = StateRunning
	case props["ActiveState"] == "failed":
		st.State = StateFailed
		st.Detail = "failed (Result=" + props["Result"] + ", exit status " + props["ExecMainStatus"] + ")"
	case props["ActiveState"] == "inactive" || props["ActiveState"] == "deactivating":
		st.State = StateStopped
	default:
		st.State = StateUnknown
	}
	return st
}
