package ecrproto

import (
	"context"
	"time"
)

// SetSleep replaces the wait before a HELLO answer after failed ones, so
// tests can see the delays without waiting them out. Call it before Serve.
func SetSleep(s *Server, f func(ctx context.Context, d time.Duration) error) { s.sleep = f }
