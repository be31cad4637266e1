package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/tillbridge/tillbridge/queue"
)

// keepAlive is how often an idle event stream sends a comment, so proxies
// and the browser keep it open.
const keepAlive = 15 * time.Second

// liveEvent is one journal event as the live stream sends it: what the
// control API shows of an event, plus the operation's lane and ref. No
// buyer code is in it (the journal keeps only masked ones).
type liveEvent struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	OpID   string    `json:"op_id"`
	Lane   string    `json:"lane,omitempty"`
	Ref    string    `json:"ref,omitempty"`
	Kind   string    `json:"kind,omitempty"`
	Name   string    `json:"name"`
	Call   string    `json:"call,omitempty"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Code   string    `json:"code,omitempty"`
	Amount string    `json:"amount,omitempty"`
	// Final is true when the operation is in a final state now.
	Final bool `json:"final"`
}

// handleEvents streams the journal's events as Server-Sent Events until
// the browser leaves or the daemon stops.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, sess *session) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	sub, err := s.api.Subscribe()
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n: connected\n\n")
	fl.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	ctx := r.Context()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case ev, ok := <-sub.C():
			if !ok {
				return
			}
			b, err := json.Marshal(s.liveEvent(r, ev))
			if err != nil {
				continue
			}
			fmt.Fprintf(w, "event: journal\nid: %d\ndata: %s\n\n", ev.Seq, b)
		}
		fl.Flush()
	}
}

// liveEvent adds the operation's lane, ref and amount to a journal event.
func (s *Server) liveEvent(r *http.Request, ev queue.Event) liveEvent {
	le := liveEvent{Seq: ev.Seq, At: ev.At, OpID: ev.OpID, Name: string(ev.Name), Call: string(ev.Call),
		From: string(ev.From), To: string(ev.To), Code: ev.Code}
	if d, err := s.api.Operation(r.Context(), ev.OpID); err == nil {
		le.Lane, le.Ref, le.Kind = d.Op.Lane, d.Op.Ref, d.Op.Kind
		le.Amount = money(d.Op.Amount, d.Op.Currency)
		le.Final = queue.State(d.Op.State).Final()
	}
	return le
}
