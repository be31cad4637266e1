package queue

import (
	"sync"
	"sync/atomic"
)

// Subscription receives every event the engine records, in commit order,
// through a buffered channel. The engine never waits for a subscriber: when
// the buffer is full the event is dropped for that subscriber and counted
// (Dropped). A subscriber that sees a drop, or a gap in Seq, re-reads the
// operations it cares about with Get; the journal is always the truth.
type Subscription struct {
	c       chan Event
	dropped atomic.Uint64
	hub     *hub
	once    sync.Once
}

// C returns the channel of events. It is closed by Close and when the engine
// closes.
func (s *Subscription) C() <-chan Event { return s.c }

// Dropped returns how many events were dropped because the buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close stops the subscription and closes its channel.
func (s *Subscription) Close() { s.hub.remove(s) }

// hub fans events out to subscriptions and committed states out to
// watchers (watch.go).
type hub struct {
	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	watches map[string]map[*watcher]struct{} // by operation id
	closed  bool
}

func newHub() *hub {
	return &hub{subs: map[*Subscription]struct{}{}, watches: map[string]map[*watcher]struct{}{}}
}

func (h *hub) add(buffer int) *Subscription {
	s := &Subscription{c: make(chan Event, buffer), hub: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.c)
		s.once.Do(func() {})
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

func (h *hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		s.once.Do(func() { close(s.c) })
	}
}

// publish delivers the events and operation states of one commit, without
// blocking: evs to every subscription, states to the watchers of their
// operations.
func (h *hub) publish(evs []Event, states []Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.publishStates(states)
	for s := range h.subs {
		for _, ev := range evs {
			select {
			case s.c <- ev:
			default:
				s.dropped.Add(1)
			}
		}
	}
}

// close closes every subscription and every watcher.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		s.once.Do(func() { close(s.c) })
	}
	for _, ws := range h.watches {
		for w := range ws {
			h.end(w)
		}
	}
}
