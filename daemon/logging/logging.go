// Package logging sets up tillbridge's logs: JSON lines to a rotating file,
// a readable console format in the foreground, lifecycle events and errors
// also to the system log (syslog or the Windows Event Log), and redaction of
// keys and customer codes from every line as a last line of defence.
//
// The package holds no package-level mutable state and never changes
// zerolog's global settings: everything hangs off the [Logs] built by [New].
//
//	logs, err := logging.New(logging.Config{Level: "info", File: "/var/log/tillbridge/tillbridge.log",
//		Secrets: []string{md5Key}})
//	defer logs.Close()
//	log := logging.WithConnLane(logs.Logger(), "c17", "1")
//	log.Info().Str("code", logging.MaskCode(code)).Msg("scan received")
package logging

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/natefinch/lumberjack.v2"
)

// Rotation defaults, used when a Config field is zero.
const (
	DefaultMaxSizeMB  = 10
	DefaultMaxFiles   = 10
	DefaultMaxAgeDays = 30
	// TimeFormat is the time format of the "time" field of JSON lines
	// (RFC 3339, UTC, milliseconds).
	TimeFormat = "2006-01-02T15:04:05.000Z07:00"
	// ConsoleTimeFormat is the time format of the readable console.
	ConsoleTimeFormat = "2006-01-02 15:04:05.000"
)

// Console formats.
const (
	FormatConsole = "console" // readable: time, level, message, key=value
	FormatJSON    = "json"    // the same JSON lines as the file
)

// Config says where and how to log. The zero value logs nothing at info.
type Config struct {
	// Level is trace, debug, info (the default), warn or error.
	Level string
	// File is the rotating JSON log file; empty writes no file.
	File string
	// MaxSizeMB rotates the file at this size; MaxFiles rotated files are
	// kept, none older than MaxAgeDays. Zero means the defaults above.
	MaxSizeMB, MaxFiles, MaxAgeDays int
	// Compress gzips rotated files.
	Compress bool
	// Console receives the log too (the foreground's stderr); nil = none.
	Console io.Writer
	// ConsoleFormat is FormatConsole (the default) or FormatJSON.
	ConsoleFormat string
	// NoColor turns off colours in the console format.
	NoColor bool
	// System, when set, receives error lines and lifecycle events (see
	// Lifecycle). Logs.Close closes it. See OpenSystemLog.
	System SystemLog
	// Secrets are scrubbed from every line (MD5 key, PEM key material,
	// shared keys); more can be added with Logs.AddSecret.
	Secrets []string
	// Now is the clock for the "time" field; nil means time.Now.
	Now func() time.Time
}

// Logs owns the logger and its outputs.
type Logs struct {
	logger   zerolog.Logger
	redactor *Redactor
	closers  []io.Closer
}

// ErrBadLevel is wrapped by New for an unknown level name.
var ErrBadLevel = errors.New("unknown log level")

// New builds the logs described by cfg. The file's folder must exist.
func New(cfg Config) (*Logs, error) {
	level, err := ParseLevel(cfg.Level)
	if err != nil {
		return nil, err
	}
	red, err := NewRedactor(cfg.Secrets...)
	if err != nil {
		return nil, fmt.Errorf("log secrets: %w", err)
	}
	l := &Logs{redactor: red}
	sinks, err := l.sinks(cfg)
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	w := red.Writer(zerolog.MultiLevelWriter(sinks...))
	l.logger = zerolog.New(w).Level(level).Hook(timeHook{now})
	return l, nil
}

// sinks opens the outputs of cfg: file, console, system log.
func (l *Logs) sinks(cfg Config) ([]io.Writer, error) {
	var sinks []io.Writer
	if cfg.File != "" {
		f := &lumberjack.Logger{
			Filename:   cfg.File,
			MaxSize:    orDefault(cfg.MaxSizeMB, DefaultMaxSizeMB),
			MaxBackups: orDefault(cfg.MaxFiles, DefaultMaxFiles),
			MaxAge:     orDefault(cfg.MaxAgeDays, DefaultMaxAgeDays),
			Compress:   cfg.Compress,
		}
		l.closers = append(l.closers, f)
		sinks = append(sinks, f)
	}
	if cfg.Console != nil {
		c, err := consoleWriter(cfg)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, c)
	}
	if cfg.System != nil {
		l.closers = append(l.closers, cfg.System)
		sinks = append(sinks, systemWriter{cfg.System})
	}
	return sinks, nil
}

// consoleWriter returns the foreground output in the configured format.
func consoleWriter(cfg Config) (io.Writer, error) {
	switch cfg.ConsoleFormat {
	case "", FormatConsole:
		return zerolog.SyncWriter(zerolog.ConsoleWriter{
			Out:        cfg.Console,
			NoColor:    cfg.NoColor,
			TimeFormat: ConsoleTimeFormat,
		}), nil
	case FormatJSON:
		return zerolog.SyncWriter(cfg.Console), nil
	default:
		return nil, fmt.Errorf("console format %q: want %q or %q", cfg.ConsoleFormat, FormatConsole, FormatJSON)
	}
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// ParseLevel parses trace, debug, info, warn or error; "" is info.
func ParseLevel(s string) (zerolog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return zerolog.InfoLevel, nil
	case "trace":
		return zerolog.TraceLevel, nil
	case "debug":
		return zerolog.DebugLevel, nil
	case "info":
		return zerolog.InfoLevel, nil
	case "warn", "warning":
		return zerolog.WarnLevel, nil
	case "error":
		return zerolog.ErrorLevel, nil
	}
	return zerolog.NoLevel, fmt.Errorf("%w %q: want trace, debug, info, warn or error", ErrBadLevel, s)
}

// Logger returns the root logger. Derive per-connection and per-lane
// loggers from it with WithConn, WithLane and WithConnLane.
func (l *Logs) Logger() zerolog.Logger { return l.logger }

// Redactor returns the redactor every line passes through, for other
// outputs that must be scrubbed the same way (a support bundle).
func (l *Logs) Redactor() *Redactor { return l.redactor }

// AddSecret registers one more secret to scrub (see Redactor.AddSecret).
func (l *Logs) AddSecret(secret string) error { return l.redactor.AddSecret(secret) }

// Close closes the log file and the system log. The logger must not be
// used afterwards.
func (l *Logs) Close() error {
	var errs []error
	for _, c := range l.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// timeHook stamps each event with the injected clock, in TimeFormat, so
// zerolog's global time settings stay untouched.
type timeHook struct{ now func() time.Time }

// Run adds the "time" field.
func (h timeHook) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str(zerolog.TimestampFieldName, h.now().UTC().Format(TimeFormat))
}
