package devices

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
)

// FileOpener returns an Opener that appends jobs to a file (created with
// mode 0644 if missing). It is one-way: Read returns ErrOneWay. It serves
// the sandbox demo (`tillbridge receipt preview --in` reads the file back),
// tests, and printers exposed as a device node such as /dev/usb/lp0.
func FileOpener(path string) Opener {
	return func(ctx context.Context) (Transport, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fileError("file:"+path, err)
		}
		return &fileTransport{f: f, name: "file:" + path}, nil
	}
}

// fileError classifies an open/write error on a path.
func fileError(device string, err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return NewError(CodePermission, device, err)
	case errors.Is(err, fs.ErrNotExist):
		return NewError(CodeNotFound, device, err)
	}
	return NewError(CodeIO, device, err)
}

type fileTransport struct {
	mu   sync.Mutex
	f    *os.File
	name string
}

func (t *fileTransport) String() string { return t.name }

func (t *fileTransport) Write(ctx context.Context, p []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, NewError(CodeTimeout, t.name, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return 0, NewError(CodeClosed, t.name, os.ErrClosed)
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
