package daemon

import (
	"time"

	"github.com/tillbridge/tillbridge/queue"
)

// watchBuffer is how many journal events a watch holds before it falls
// back to re-reading its operation.
const watchBuffer = 64

// safetyPoll re-reads a watched operation this often even without events:
// the journal is the truth, events are only a wake-up.
const safetyPoll = 2 * time.Second

// opWatch receives the journal events of one operation, keyed by its id
// or, for a sale, by its lane and ref (so a watch can exist before the sale
// is recorded and miss none of its events).
type opWatch struct {
	key    string
	c      chan queue.Event
	resync chan struct{} // an event was lost: re-read the operation
}

// saleKey is the watch key of the sale ref on lane.
func saleKey(lane, ref string) string { return "sale\x00" + lane + "\x00" + ref }

// watchOp starts delivering the events of the operation with id (or watch
// key); unwatch stops it.
func (d *Daemon) watchOp(key string) *opWatch {
	w := &opWatch{key: key, c: make(chan queue.Event, watchBuffer), resync: make(chan struct{}, 1)}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.watches == nil {
		d.watches = map[string]map[*opWatch]struct{}{}
	}
	if d.watches[key] == nil {
		d.watches[key] = map[*opWatch]struct{}{}
	}
	d.watches[key][w] = struct{}{}
	return w
}

func (d *Daemon) unwatch(w *opWatch) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.watches[w.key], w)
	if len(d.watches[w.key]) == 0 {
		delete(d.watches, w.key)
	}
}

// dispatch hands every journal event to the watches of its operation. On a
// dropped event or a gap in the sequence every watch re-reads.
func (d *Daemon) dispatch(sub *queue.Subscription) {
	defer sub.Close()
	var last int64
	var dropped uint64
	for {
		select {
		case <-d.work.Done():
			return
		case ev, ok := <-sub.C():
			if !ok {
				return
			}
			lost := (last != 0 && ev.Seq > last+1) || sub.Dropped() != dropped
			last, dropped = ev.Seq, sub.Dropped()
			d.deliver(ev, lost)
		}
	}
}

func (d *Daemon) deliver(ev queue.Event, lost bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if lost {
		for _, ws := range d.watches {
			for w := range ws {
				w.kick()
			}
		}
	}
	d.offerTo(d.watches[ev.OpID], ev)
	if ev.Kind == queue.KindSale {
		d.offerTo(d.watches[saleKey(ev.Lane, ev.Ref)], ev)
	}
}

// offerTo hands ev to every watch in ws without blocking. Caller holds d.mu.
func (d *Daemon) offerTo(ws map[*opWatch]struct{}, ev queue.Event) {
	for w := range ws {
		select {
		case w.c <- ev:
		default:
			w.kick()
		}
	}
}

func (w *opWatch) kick() {
	select {
	case w.resync <- struct{}{}:
	default:
	}
}

// waitFinal follows operation id (see follow) and returns it as last read.
func (d *Daemon) waitFinal(id string, limit time.Duration, onEvent func(queue.Event)) (queue.Operation, error) {
	w := d.watchOp(id)
	defer d.unwatch(w)
	op, err := d.eng.Get(d.work, id)
	if err != nil {
		return op, err
	}
	return d.follow(w, op, limit, onEvent), nil
}

// follow re-reads op at each of its events until it is final, until the
// daemon stops, or until limit passes (0: no limit), and returns it as last
// read. onEvent, if set, sees every event. A cancelling or checking
// operation counts as settled once the cancel wait has passed since the
// daemon took the cancel on: the ECR then hears CANCELLED, CANCEL_QUEUED.
func (d *Daemon) follow(w *opWatch, op queue.Operation, limit time.Duration, onEvent func(queue.Event)) queue.Operation {
	var deadline, cancelT <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		deadline = t.C
	}
	poll := time.NewTicker(safetyPoll)
	defer poll.Stop()
	for !op.Final() {
		if cancelT == nil && (op.State == queue.StateCancelling || op.State == queue.StateChecking) {
			t := time.NewTimer(d.cfg.Payment.CancelWait)
			defer t.Stop()
			cancelT = t.C
		}
		select {
		case ev := <-w.c:
			if onEvent != nil {
				onEvent(ev)
			}
		case <-w.resync:
		case <-poll.C:
		case <-cancelT:
			return op
		case <-deadline:
			return op
		case <-d.stopping:
			return op
		}
		if cur, err := d.eng.Get(d.work, op.ID); err == nil {
			op = cur
		}
	}
	return op
}
