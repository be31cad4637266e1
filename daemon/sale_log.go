package daemon

import "github.com/tillbridge/tillbridge/ecrproto"

// The sale's message log: what its runner says (EVENTs, then one RESULT),
// kept for every connection attached to the sale (stream, sale.go), and
// the hand-over of the buyer code to the runner.

// emit appends a message for every attached connection; nothing follows
// the final one.
func (s *sale) emit(m *ecrproto.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final {
		return
	}
	s.msgs = append(s.msgs, m)
	s.final = m.IsFinal()
	close(s.changed)
	s.changed = make(chan struct{})
}

// event emits an EVENT; once only when once is set.
func (s *sale) event(name, msg string, once bool) {
	s.mu.Lock()
	if once && s.sent[name] {
		s.mu.Unlock()
		return
	}
	s.sent[name] = true
	s.mu.Unlock()
	s.emit(&ecrproto.Message{Type: ecrproto.TypeEvent, Event: name, Message: msg})
}

// since returns the messages from index i, a channel closed at the next
// one, and whether the final message is among those returned.
func (s *sale) since(i int) ([]*ecrproto.Message, <-chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i > len(s.msgs) {
		i = len(s.msgs)
	}
	return s.msgs[i:], s.changed, s.final
}

// attachIndex is where a connection attaching late starts: at the latest
// message, so it learns the current stage (or the RESULT) at once.
func (s *sale) attachIndex() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(len(s.msgs)-1, 0)
}

// deliver hands the buyer code to the sale if it is waiting for one.
func (s *sale) deliver(code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.waiting {
		return false
	}
	select {
	case s.code <- code:
		s.waiting = false
		return true
	default:
		return false
	}
}

func (s *sale) setWaiting(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting = v
}
