//go:build windows

package logging

import (
	"fmt"

	"golang.org/x/sys/windows/svc/eventlog"
)

// Event ids written to the Windows Event Log (the same ids the
// kardianos/service logger uses).
const (
	eventInfo    = 1
	eventWarning = 2
	eventError   = 3
)

// OpenSystemLog opens the Windows Event Log with name as the event source.
// `tillbridge install` registers the source; without it Windows still logs
// the events, with a note that the source is unknown.
func OpenSystemLog(name string) (SystemLog, error) {
	l, err := eventlog.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	return eventLog{l}, nil
}

// eventLog adapts *eventlog.Log to SystemLog.
type eventLog struct{ l *eventlog.Log }

// Error writes an error event.
func (e eventLog) Error(msg string) error { return e.l.Error(eventError, msg) }

// Warning writes a warning event.
func (e eventLog) Warning(msg string) error { return e.l.Warning(eventWarning, msg) }

// Info writes an information event.
func (e eventLog) Info(msg string) error { return e.l.Info(eventInfo, msg) }

// Close closes the event log handle.
func (e eventLog) Close() error { return e.l.Close() }
