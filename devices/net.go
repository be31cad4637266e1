package devices

import (
	"context"
	"errors"
	"net"
	"os"
	"time"
)

// DefaultDialTimeout bounds a network printer or scanner connect.
const DefaultDialTimeout = 3 * time.Second

// NetworkOpener returns an Opener for a raw TCP printer ("host:port",
// usually port 9100). Each open dials a new connection; status replies are
// read from the same connection.
func NetworkOpener(addr string, dialTimeout time.Duration) Opener {
	return func(ctx context.Context) (Transport, error) {
		c, err := dialTCP(ctx, addr, dialTimeout)
		if err != nil {
			return nil, err
		}
		return &connTransport{conn: c, name: "tcp:" + addr}, nil
	}
}

// dialTCP connects to addr, classifying failures as offline or timeout.
func dialTCP(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, NewError(CodeConfig, "tcp:"+addr, err)
	}
	d := net.Dialer{Timeout: timeout, KeepAlive: 15 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, netError("tcp:"+addr, err)
	}
	return c, nil
}

// netError classifies a network error into a *DeviceError.
func netError(device string, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return NewError(CodeTimeout, device, err)
	}
	return NewError(CodeOffline, device, err)
}

// connTransport is a Transport over a net.Conn with ctx-driven deadlines.
type connTransport struct {
	conn net.Conn
	name string
}

func (t *connTransport) String() string { return t.name }

func (t *connTransport) Close() error {
	err := t.conn.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (t *connTransport) Write(ctx context.Context, p []byte) (int, error) {
	return ctxIO(ctx, t.conn.SetWriteDeadline, func() (int, error) { return t.conn.Write(p) }, t.name)
}

func (t *connTransport) Read(ctx context.Context, p []byte) (int, error) {
	return ctxIO(ctx, t.conn.SetReadDeadline, func() (int, error) { return t.conn.Read(p) }, t.name)
}

// ctxIO runs one blocking conn operation bounded by ctx: its deadline
// becomes the conn deadline, and cancellation expires the deadline at once.
func ctxIO(ctx context.Context, setDeadline func(time.Time) error, op func() (int, error), name string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, NewError(CodeTimeout, name, err)
	}
	dl, _ := ctx.Deadline()
	if err := setDeadline(dl); err != nil {
		return 0, NewError(CodeOffline, name, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = setDeadline(time.Unix(1, 0)) })
	n, err := op()
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return n, NewError(CodeTimeout, name, ctx.Err())
		}
		return n, netError(name, err)
	}
	return n, nil
}
