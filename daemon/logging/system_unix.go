//go:build !windows

package logging

import (
	"fmt"
	"log/syslog"
)

// OpenSystemLog opens syslog (facility daemon) with name as the tag. It
// fails where no syslog daemon listens (many containers): callers then log
// to the file and console only.
func OpenSystemLog(name string) (SystemLog, error) {
	w, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, name)
	if err != nil {
		return nil, fmt.Errorf("open syslog: %w", err)
	}
	return sysLog{w}, nil
}

// sysLog adapts *syslog.Writer to SystemLog.
type sysLog struct{ w *syslog.Writer }

// Error logs msg at priority err.
func (s sysLog) Error(msg string) error { return s.w.Err(msg) }

// Warning logs msg at priority warning.
func (s sysLog) Warning(msg string) error { return s.w.Warning(msg) }

// Info logs msg at priority info.
func (s sysLog) Info(msg string) error { return s.w.Info(msg) }

// Close closes the connection to syslog.
func (s sysLog) Close() error { return s.w.Close() }
