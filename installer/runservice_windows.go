//go:build windows

package installer

import (
	"os"

	"github.com/kardianos/service"
)

// unexpectedExitHandler logs the failure to the Event Log and exits with
// status 1 without reporting "stopped": the SCM counts that as a failure
// and applies the recovery actions (restart after 5 s, 30 s, 60 s). A
// Windows service that returned normally would instead sit "stopped".
func unexpectedExitHandler(s service.Service) func(error) {
	logger, err := s.SystemLogger(nil)
	return func(exitErr error) {
		if err == nil {
			_ = logger.Errorf("%v; exiting so that the service manager restarts it", exitErr)
		}
		os.Exit(1)
	}
}
