package escpos

import (
	"context"
	"errors"

	"github.com/tillbridge/tillbridge/devices"
)

// Status polls DLE EOT 1, 2 and 4 (and 3 when reply 2 reports an error)
// and returns the parsed status. It fails closed: without a well-formed
// reply the status has Known=false and the error says why (timeout,
// offline, not found...). One-way printers return Known=false, OneWay=true
// and no error. A transport that fails mid-poll is reopened and the poll
// retried once, so an unplugged or power-cycled printer recovers.
func (p *Printer) Status(ctx context.Context) (devices.PrinterStatus, error) {
	if p.cfg.OneWay {
		return devices.PrinterStatus{OneWay: true, Detail: "one-way printer: status cannot be read", At: p.cfg.Now()}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status(ctx)
}

func (p *Printer) status(ctx context.Context) (devices.PrinterStatus, error) {
	var st devices.PrinterStatus
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		st, err = p.pollOnce(ctx)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	st.At = p.cfg.Now()
	if err != nil {
		st.Known = false
		if st.Detail == "" {
			st.Detail = devices.CodeOf(err)
		}
	}
	return st, err
}

// retryable is true for transport failures (the connection broke) but not
// for timeouts (the printer is silent) or definitive open errors.
func retryable(err error) bool {
	switch devices.CodeOf(err) {
	case devices.CodeOffline, devices.CodeIO, devices.CodeClosed:
		return true
	}
	return false
}

// pollOnce opens the transport if needed and asks each status in turn. On
// any failure the transport is dropped so stale replies cannot misalign the
// next poll.
func (p *Printer) pollOnce(ctx context.Context) (devices.PrinterStatus, error) {
	t, err := p.transport(ctx)
	if err != nil {
		return devices.PrinterStatus{}, err
	}
	var r StatusReply
	for _, n := range []int{StatusPrinter, StatusOffline, StatusError, StatusPaperRoll} {
		if n == StatusError && !needsErrorCause(r.Bytes[StatusOffline]) {
			continue
		}
		b, err := p.ask(ctx, t, n)
		if err != nil {
			_ = p.drop()
			if errors.Is(err, devices.ErrOneWay) {
				return devices.PrinterStatus{OneWay: true, Detail: "transport cannot read status"}, err
			}
			return devices.PrinterStatus{}, err
		}
		r.Set(n, b)
	}
	st, err := ParseStatus(r)
	if err != nil {
		_ = p.drop()
		return st, devices.NewError(devices.CodeIO, p.cfg.Name, err)
	}
	return st, nil
}

// ask sends DLE EOT n and reads the one-byte reply within StatusTimeout.
func (p *Printer) ask(ctx context.Context, t devices.Transport, n int) (byte, error) {
	if _, err := t.Write(ctx, StatusRequest(n)); err != nil {
		return 0, p.wrap(devices.CodeOffline, err)
	}
	rctx, cancel := context.WithTimeout(ctx, p.cfg.StatusTimeout)
	defer cancel()
	var buf [1]byte
	for {
		k, err := t.Read(rctx, buf[:])
		if k == 1 {
			return buf[0], nil
		}
		if err != nil {
			if rctx.Err() != nil && ctx.Err() == nil {
				return 0, devices.Errorf(devices.CodeTimeout, p.cfg.Name, "no reply to DLE EOT %d within %v", n, p.cfg.StatusTimeout)
			}
			return 0, p.wrap(devices.CodeOffline, err)
		}
		if rctx.Err() != nil {
			return 0, devices.Errorf(devices.CodeTimeout, p.cfg.Name, "no reply to DLE EOT %d within %v", n, p.cfg.StatusTimeout)
		}
	}
}
