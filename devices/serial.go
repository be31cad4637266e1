package devices

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.bug.st/serial"
)

// SerialConfig configures a serial (RS-232, USB-serial or CDC-ACM) port.
// Zero values mean 9600 baud, 8 data bits, no parity, 1 stop bit.
type SerialConfig struct {
	// Port is the device: "/dev/ttyUSB0", "/dev/ttyACM0", "COM3".
	Port string
	// Baud is the speed in bits per second.
	Baud int
	// DataBits is 5..8.
	DataBits int
	// Parity is "none", "odd", "even", "mark" or "space".
	Parity string
	// StopBits is "1", "1.5" or "2".
	StopBits string
}

// mode converts c to a serial.Mode, rejecting bad values.
func (c SerialConfig) mode() (*serial.Mode, error) {
	m := &serial.Mode{BaudRate: c.Baud, DataBits: c.DataBits}
	if m.BaudRate == 0 {
		m.BaudRate = 9600
	}
	if m.DataBits == 0 {
		m.DataBits = 8
	}
	if m.BaudRate < 50 || m.DataBits < 5 || m.DataBits > 8 {
		return nil, fmt.Errorf("serial %s: bad baud %d or data bits %d", c.Port, m.BaudRate, m.DataBits)
	}
	parities := map[string]serial.Parity{"": serial.NoParity, "none": serial.NoParity, "odd": serial.OddParity,
		"even": serial.EvenParity, "mark": serial.MarkParity, "space": serial.SpaceParity}
	p, ok := parities[strings.ToLower(c.Parity)]
	if !ok {
		return nil, fmt.Errorf("serial %s: unknown parity %q", c.Port, c.Parity)
	}
	m.Parity = p
	stops := map[string]serial.StopBits{"": serial.OneStopBit, "1": serial.OneStopBit,
		"1.5": serial.OnePointFiveStopBits, "2": serial.TwoStopBits}
	s, ok := stops[c.StopBits]
	if !ok {
		return nil, fmt.Errorf("serial %s: unknown stop bits %q", c.Port, c.StopBits)
	}
	m.StopBits = s
	return m, nil
}

// openSerial opens and configures the port, classifying failures.
func openSerial(c SerialConfig) (serial.Port, error) {
	name := "serial:" + c.Port
	if c.Port == "" {
		return nil, Errorf(CodeConfig, name, "no serial port configured")
	}
	m, err := c.mode()
	if err != nil {
		return nil, NewError(CodeConfig, name, err)
	}
	p, err := serial.Open(c.Port, m)
	if err != nil {
		return nil, serialError(name, err)
	}
	return p, nil
}

// serialError maps go.bug.st/serial and OS errors to stable codes.
func serialError(device string, err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PermissionDenied:
			return NewError(CodePermission, device, fmt.Errorf("%w (Linux: add the service user to the dialout group, or install tillbridge's udev rules)", err))
		case serial.PortNotFound:
			return NewError(CodeNotFound, device, err)
		case serial.PortBusy:
			return NewError(CodeBusy, device, err)
		case serial.PortClosed:
			return NewError(CodeOffline, device, err)
		case serial.InvalidSpeed, serial.InvalidDataBits, serial.InvalidParity, serial.InvalidStopBits:
			return NewError(CodeConfig, device, err)
		}
	}
	return fileError(device, err)
}

// SerialOpener returns an Opener for a serial printer. Status replies are
// read from the same port.
func SerialOpener(c SerialConfig) Opener {
	return func(ctx context.Context) (Transport, error) {
		p, err := openSerial(c)
		if err != nil {
			return nil, err
		}
		return &serialTransport{port: p, name: "serial:" + c.Port}, nil
	}
}

// serialTransport is a Transport over a serial port.
type serialTransport struct {
	port serial.Port
	name string
}

func (t *serialTransport) String() string { return t.name }

func (t *serialTransport) Close() error { return t.port.Close() }

// Write runs the blocking write in a goroutine so ctx can abandon a port
// stalled by flow control; the port is then closed (and later reopened).
func (t *serialTransport) Write(ctx context.Context, p []byte) (int, error) {
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := t.port.Write(p)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return r.n, serialError(t.name, r.err)
		}
		return r.n, nil
	case <-ctx.Done():
		_ = t.port.Close()
		return 0, NewError(CodeTimeout, t.name, ctx.Err())
	}
}

// serialPollSlice is how long one blocking serial read waits before
// checking ctx again; it bounds cancellation latency, not correctness.
const serialPollSlice = 100 * time.Millisecond

// Read waits for at least one byte until ctx ends.
func (t *serialTransport) Read(ctx context.Context, p []byte) (int, error) {
	for {
		if err := ctx.Err(); err != nil {
			return 0, NewError(CodeTimeout, t.name, err)
		}
		slice := serialPollSlice
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < slice {
			slice = max(time.Until(dl), time.Millisecond)
		}
		if err := t.port.SetReadTimeout(slice); err != nil {
			return 0, serialError(t.name, err)
		}
		n, err := t.port.Read(p)
		if n > 0 {
			return n, nil
		}
		if err != nil {
			return 0, serialError(t.name, err)
		}
	}
}
