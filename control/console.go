package control

import (
	"context"
	"net/http"
	"time"
)

// ConsoleLogin is the answer of POST /v1/console/token: a one-time login
// link to the browser console. The token is good for one login, until
// Expires.
type ConsoleLogin struct {
	URL     string    `json:"url"`
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// ConsoleBackend is what a Backend offers when it runs the browser
// console (the daemon does when [console] enabled = true; a backend
// without it answers POST /v1/console/token with CodeUnsupported).
type ConsoleBackend interface {
	// ConsoleToken mints a short-lived, single-use login token; it fails
	// with CodeUnsupported when the console is off.
	ConsoleToken(ctx context.Context) (ConsoleLogin, error)
}

// handleConsoleToken serves POST /v1/console/token. Whoever may use the
// control socket may log in to the console.
func (s *server) handleConsoleToken(w http.ResponseWriter, r *http.Request) {
	cb, ok := s.b.(ConsoleBackend)
	if !ok {
		s.writeErr(w, r, Errorf(CodeUnsupported, "this daemon has no browser console"))
		return
	}
	login, err := cb.ConsoleToken(r.Context())
	if err == nil {
		s.log.Info().Time("expires", login.Expires).Msg("console login token issued")
	}
	s.reply(w, r, login, err)
}

// ConsoleToken asks the daemon for a one-time console login link.
func (c *Client) ConsoleToken(ctx context.Context) (ConsoleLogin, error) {
	var l ConsoleLogin
	return l, c.call(ctx, http.MethodPost, "/v1/console/token", nil, nil, &l)
}
