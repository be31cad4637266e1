package daemon_test

import (
	"errors"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// sandboxCode is an 18-digit sandbox buyer code ending in scenario sc.
func sandboxCode(sc, n int) string { return daemonenv.Code(sc, n) }

// ctlCode returns err's control error code ("" when it is none).
func ctlCode(err error) string {
	var ce *control.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}
