//go:build !windows

package installer

import "github.com/kardianos/service"

// unexpectedExitHandler is nil on Unix: the RunWait option returns when
// run does, RunService returns the error, the process exits non-zero and
// systemd's Restart=on-failure applies.
func unexpectedExitHandler(service.Service) func(error) { return nil }
