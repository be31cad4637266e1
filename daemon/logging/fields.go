package logging

import "github.com/rs/zerolog"

// Field names carried by tillbridge log lines.
const (
	// KeyConn is the ECR connection id: every line about one ECR
	// connection carries it.
	KeyConn = "conn"
	// KeyLane is the lane (till) id.
	KeyLane = "lane"
	// KeyLifecycle marks service lifecycle events (starting, started,
	// stopping, stopped, failed to start): such a line also goes to the
	// system log (syslog or the Windows Event Log) whatever its level.
	KeyLifecycle = "lifecycle"
)

// WithConn returns a logger that adds the connection id to every line.
func WithConn(l zerolog.Logger, connID string) zerolog.Logger {
	return l.With().Str(KeyConn, connID).Logger()
}

// WithLane returns a logger that adds the lane id to every line.
func WithLane(l zerolog.Logger, lane string) zerolog.Logger {
	return l.With().Str(KeyLane, lane).Logger()
}

// WithConnLane returns a logger that adds both the connection id and the
// lane id to every line.
func WithConnLane(l zerolog.Logger, connID, lane string) zerolog.Logger {
	return l.With().Str(KeyConn, connID).Str(KeyLane, lane).Logger()
}

// Lifecycle marks e as a service lifecycle event, so it also reaches the
// system log:
//
//	logging.Lifecycle(log.Info()).Str("version", v).Msg("tillbridge started")
func Lifecycle(e *zerolog.Event) *zerolog.Event {
	return e.Bool(KeyLifecycle, true)
}
