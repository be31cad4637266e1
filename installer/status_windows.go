//go:build windows

package installer

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// serviceStatus asks the SCM with query-only rights, so any user may ask.
func serviceStatus(_ context.Context, name string) (ServiceState, error) {
	unknown := ServiceState{State: StateUnknown, Restarts: -1}
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return unknown, fmt.Errorf("connect to the service manager: %w", err)
	}
	m := &mgr.Mgr{Handle: h}
	defer m.Disconnect()
	name16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return unknown, err
	}
	sh, err := windows.OpenService(h, name16, windows.SERVICE_QUERY_STATUS)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return ServiceState{State: StateNotInstalled, Restarts: -1}, nil
	}
	if err != nil {
		return unknown, fmt.Errorf("open service %s: %w", name, err)
	}
	s := &mgr.Service{Name: name, Handle: sh}
	defer s.Close()
	q, err := s.Query()
	if err != nil {
		return unknown, fmt.Errorf("query service %s: %w", name, err)
	}
	return windowsState(q), nil
}

// windowsState maps an SCM status to a ServiceState.
func windowsState(q svc.Status) ServiceState {
	st := ServiceState{Restarts: -1}
	switch q.State {
	case svc.Running, svc.StartPending, svc.ContinuePending:
		st.State, st.Detail = StateRunning, "running"
	case svc.Stopped:
		st.State, st.Detail = StateStopped, "stopped"
		if code := q.Win32ExitCode; code != 0 && code != uint32(windows.ERROR_SERVICE_NEVER_STARTED) {
			st.State = StateFailed
			st.Detail = fmt.Sprintf("stopped (exit code %d, service code %d)", code, q.ServiceSpecificExitCode)
		}
	case svc.StopPending, svc.Paused, svc.PausePending:
		st.State, st.Detail = StateStopped, "stopping or paused"
	default:
		st.State, st.Detail = StateUnknown, fmt.Sprintf("state %d", q.State)
	}
	return st
}
