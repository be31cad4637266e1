package sandbox

import (
	"sync/atomic"

	"github.com/mattn/go-sqlite3"
)

// FailCommits makes every COMMIT on cfg's state database fail while fail
// is true (a full or broken disk).
func FailCommits(cfg *Config, fail *atomic.Bool) {
	cfg.connectHook = func(c *sqlite3.SQLiteConn) error {
		c.RegisterCommitHook(func() int {
			if fail.Load() {
				return 1
			}
			return 0
		})
		return nil
	}
}
