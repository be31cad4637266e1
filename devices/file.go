package devices

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// FileOpener returns an Opener that appends jobs to a file (created with
// mode 0644 if missing). It is one-way: Read returns ErrOneWay. It serves
// the sandbox demo (`tillbridge receipt preview --in` reads the file back),
// tests, and printers exposed as a device node such as /dev/usb/lp0.
//
// The open honours ctx: a path whose open(2) blocks — a FIFO with no
// reader, a device node that never answers, a hung network share — makes
// the Opener return a "timeout" *DeviceError when ctx ends instead of
// holding its caller (and the printer's lock) forever. The blocked open
// goes on in the background, at most one per Opener: the next call waits
// for it rather than starting another, and takes the file if it opened
// meanwhile (a FIFO whose reader came late); a failed open is forgotten,
// so the next call tries again. Writes
// honour ctx's deadline where the OS can poll the file (pipes and FIFOs
// on Linux); on a regular file a write does not block.
func FileOpener(path string) Opener {
	o := &fileOpener{path: path, name: "file:" + path}
	return o.open
}

// fileOpener is the state of one FileOpener: the open still in progress,
// if any.
type fileOpener struct {
	path, name string

	mu      sync.Mutex
	pending *pendingOpen // an open(2) not yet returned, or returned and not yet taken
}

// pendingOpen is one open(2) running in its own goroutine.
type pendingOpen struct {
	done    chan struct{} // closed when open(2) returned
	f       *os.File
	err     error
	waiters int  // callers waiting for it (under fileOpener.mu)
	taken   bool // a caller took f (under fileOpener.mu)
}

func (o *fileOpener) open(ctx context.Context) (Transport, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, NewError(CodeTimeout, o.name, err)
		}
		t, again, err := o.await(ctx, o.start())
		if !again {
			return t, err
		}
	}
}

// start returns the open in progress, starting one if there is none, and
// counts the caller as its waiter.
func (o *fileOpener) start() *pendingOpen {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.pending
	if p == nil {
		p = &pendingOpen{done: make(chan struct{})}
		o.pending = p
		go o.run(p)
	}
	p.waiters++
	return p
}

// await waits for p within ctx and takes its file. again is true when a
// concurrent caller took the file first: open afresh.
func (o *fileOpener) await(ctx context.Context, p *pendingOpen) (t Transport, again bool, err error) {
	select {
	case <-p.done:
	case <-ctx.Done():
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	p.waiters--
	select {
	case <-p.done:
	default: // ctx ended first; the open goes on for the next caller
		return nil, false, NewError(CodeTimeout, o.name, fmt.Errorf("open did not complete (a FIFO without a reader, "+
			"or a device that does not answer): %w", ctx.Err()))
	}
	if o.pending == p {
		o.pending = nil
	}
	if p.err != nil {
		return nil, false, fileError(o.name, p.err)
	}
	if p.taken {
		return nil, true, nil
	}
	p.taken = true
	return &fileTransport{f: p.f, name: o.name}, false, nil
}

// run performs the blocking open(2) of p. When it returns with nobody
// waiting, a file is left for the next caller; a failure is forgotten so
// the next call tries again.
func (o *fileOpener) run(p *pendingOpen) {
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	o.mu.Lock()
	defer o.mu.Unlock()
	p.f, p.err = f, err
	close(p.done)
	if p.waiters == 0 && err != nil && o.pending == p {
		o.pending = nil
	}
}

// fileError classifies an open/write error on a path.
func fileError(device string, err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return NewError(CodePermission, device, err)
	case errors.Is(err, fs.ErrNotExist):
		return NewError(CodeNotFound, device, err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return NewError(CodeTimeout, device, err)
	}
	return NewError(CodeIO, device, err)
}

type fileTransport struct {
	mu   sync.Mutex
	f    *os.File
	name string
}

func (t *fileTransport) String() string { return t.name }

// Write writes p, within ctx's deadline where the file can be polled (a
// FIFO whose reader stopped reading); a regular file ignores the deadline.
func (t *fileTransport) Write(ctx context.Context, p []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, NewError(CodeTimeout, t.name, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return 0, NewError(CodeClosed, t.name, os.ErrClosed)
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Time{}
	}
	if err := t.f.SetWriteDeadline(dl); err != nil && !errors.Is(err, os.ErrNoDeadline) {
		return 0, fileError(t.name, err)
	}
	n, err := t.f.Write(p)
	if err != nil {
		return n, fileError(t.name, err)
	}
	return n, nil
}

func (t *fileTransport) Read(ctx context.Context, p []byte) (int, error) {
	return 0, Errorf(CodeOneWay, t.name, "a file cannot answer status requests")
}

func (t *fileTransport) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	return err
}
