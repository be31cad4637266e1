//go:build !linux && !windows

package installer

import (
	"context"
	"errors"

	"github.com/kardianos/service"
)

// serviceStatus asks kardianos/service, on platforms tillbridge does not
// install on (it compiles there for development).
func serviceStatus(_ context.Context, name string) (ServiceState, error) {
	s, err := service.New(nopProgram{}, &service.Config{Name: name})
	if err != nil {
		return ServiceState{State: StateUnknown, Restarts: -1}, err
	}
	st, err := s.Status()
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		return ServiceState{State: StateNotInstalled, Restarts: -1}, nil
	case err != nil:
		return ServiceState{State: StateUnknown, Restarts: -1}, err
	case st == service.StatusRunning:
		return ServiceState{State: StateRunning, Restarts: -1}, nil
	case st == service.StatusStopped:
		return ServiceState{State: StateStopped, Restarts: -1}, nil
	}
	return ServiceState{State: StateUnknown, Restarts: -1}, nil
}
