package devices

import (
	"context"
	"sort"
	"sync"
	"time"

	"go.bug.st/serial/enumerator"
)

// SerialPort is one serial port found by discovery.
type SerialPort struct {
	Name  string `json:"name"`
	IsUSB bool   `json:"is_usb"`
	// VID and PID are the USB ids as hex strings ("04b8"), when USB.
	VID          string `json:"vid,omitempty"`
	PID          string `json:"pid,omitempty"`
	SerialNumber string `json:"serial_number,omitempty"`
	Product      string `json:"product,omitempty"`
}

// SerialLister lists serial ports.
type SerialLister func() ([]SerialPort, error)

// ListSerialPorts lists the system's serial ports with USB details
// (go.bug.st/serial/enumerator).
func ListSerialPorts() ([]SerialPort, error) {
	ports, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, NewError(CodeIO, "serial", err)
	}
	out := make([]SerialPort, 0, len(ports))
	for _, p := range ports {
		out = append(out, SerialPort{Name: p.Name, IsUSB: p.IsUSB, VID: p.VID, PID: p.PID,
			SerialNumber: p.SerialNumber, Product: p.Product})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// NetworkTarget is a configured network device to probe.
type NetworkTarget struct {
	Name string `json:"name"`
	Addr string `json:"addr"` // "host:port"
}

// NetworkProbe is the result of probing one NetworkTarget.
type NetworkProbe struct {
	NetworkTarget
	Reachable bool          `json:"reachable"`
	Latency   time.Duration `json:"latency_ns,omitempty"`
	// Code is the stable error code when unreachable ("offline", "timeout").
	Code string `json:"code,omitempty"`
	Err  string `json:"error,omitempty"`
}

// Report is what `tillbridge devices` shows: USB devices, serial ports,
// configured network devices, and each configured device's state (filled
// by the daemon).
type Report struct {
	At         time.Time      `json:"at"`
	USB        []USBDevice    `json:"usb"`
	USBErr     string         `json:"usb_error,omitempty"`
	Serial     []SerialPort   `json:"serial"`
	SerialErr  string         `json:"serial_error,omitempty"`
	Network    []NetworkProbe `json:"network"`
	Configured []DeviceState  `json:"configured,omitempty"`
}

// DiscoverOptions says what Discover looks at.
type DiscoverOptions struct {
	// USB lists USB devices; nil when built without USB support.
	USB USBLister
	// Serial lists serial ports; nil means ListSerialPorts.
	Serial SerialLister
	// Network is the configured network printers and scanners to probe.
	Network []NetworkTarget
	// ProbeTimeout bounds each TCP connect (default 2 s).
	ProbeTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Discover builds a Report. Failures of one source are recorded in the
// report and never hide the others.
func Discover(ctx context.Context, o DiscoverOptions) Report {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Serial == nil {
		o.Serial = ListSerialPorts
	}
	r := Report{At: o.Now()}
	if o.USB == nil {
		r.USBErr = "built without USB support"
	} else if devs, err := o.USB(ctx); err != nil {
		r.USBErr = err.Error()
	} else {
		r.USB = devs
	}
	if ports, err := o.Serial(); err != nil {
		r.SerialErr = err.Error()
	} else {
		r.Serial = ports
	}
	r.Network = ProbeNetwork(ctx, o.Network, o.ProbeTimeout)
	return r
}

// ProbeNetwork connects to each target in parallel (a TCP connect, nothing
// sent) and reports which answer.
func ProbeNetwork(ctx context.Context, targets []NetworkTarget, timeout time.Duration) []NetworkProbe {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	out := make([]NetworkProbe, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = probe(ctx, t, timeout)
		}()
	}
	wg.Wait()
	return out
}

func probe(ctx context.Context, t NetworkTarget, timeout time.Duration) NetworkProbe {
	p := NetworkProbe{NetworkTarget: t}
	start := time.Now()
	c, err := dialTCP(ctx, t.Addr, timeout)
	if err != nil {
		p.Code, p.Err = CodeOf(err), err.Error()
		return p
	}
	p.Latency = time.Since(start)
	p.Reachable = true
	_ = c.Close()
	return p
}
