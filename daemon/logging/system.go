package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/rs/zerolog"
)

// SystemLog is the operating system's log: syslog on Linux, the Windows
// Event Log on Windows (see OpenSystemLog). Service lifecycle events and
// errors are copied there, so an administrator finds why the service
// stopped even when the log folder is unreadable or full.
type SystemLog interface {
	Error(msg string) error
	Warning(msg string) error
	Info(msg string) error
	Close() error
}

// systemWriter copies error lines and lifecycle lines to a SystemLog. It
// never fails a write: the log file stays the primary record.
type systemWriter struct {
	sys SystemLog
}

// Write ignores lines without a level (zerolog always passes one).
func (w systemWriter) Write(p []byte) (int, error) { return len(p), nil }

// WriteLevel forwards p when its level is error or worse, or when it is a
// lifecycle event.
func (w systemWriter) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	lifecycle := bytes.Contains(p, []byte(`"`+KeyLifecycle+`":true`))
	if level < zerolog.ErrorLevel && !lifecycle {
		return len(p), nil
	}
	if level == zerolog.NoLevel && !lifecycle {
		return len(p), nil
	}
	msg := systemMessage(p)
	switch {
	case level >= zerolog.ErrorLevel && level != zerolog.NoLevel:
		_ = w.sys.Error(msg)
	case level == zerolog.WarnLevel:
		_ = w.sys.Warning(msg)
	default:
		_ = w.sys.Info(msg)
	}
	return len(p), nil
}

// systemMessage turns one JSON log line into "message (key=value ...)",
// without the time, level and lifecycle fields the system log has already.
func systemMessage(line []byte) string {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		return strings.TrimSpace(string(line))
	}
	msg, _ := m[zerolog.MessageFieldName].(string)
	keys := make([]string, 0, len(m))
	for k := range m {
		switch k {
		case zerolog.MessageFieldName, zerolog.TimestampFieldName, zerolog.LevelFieldName, KeyLifecycle:
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(msg)
	for i, k := range keys {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%v", k, m[k])
	}
	if len(keys) > 0 {
		b.WriteString(")")
	}
	return b.String()
}
