package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/devices"
)

func devicesCommand() command {
	return command{name: "devices", summary: "list configured devices with their state, and USB/serial devices found",
		run: runDevices}
}

const devicesUsage = `usage: tillbridge devices [--config FILE | --data DIR | --socket ADDR] [--json]

Lists each lane's configured printer and scanner with its current state (from
the running daemon), the USB devices and serial ports on this machine with
their guessed role, and whether the configured network printers and scanners
answer. When the daemon is not running, the configured devices come from the
configuration file (without state) and discovery runs here; the output says
so. Discovery never opens or claims a device.

Exit codes: 0 listed (from the daemon or locally); 1 nothing could be listed.

Examples:
  tillbridge devices
  sudo tillbridge devices --json
`

func runDevices(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	fs := newCtlFlagSet("devices", devicesUsage, cio, &f)
	if err := parseCtl(fs, args, false); err != nil {
		return err
	}
	cl, cfg := f.client()
	defer cl.Close()
	cctx, cancel := ctlContext(ctx, 30*time.Second)
	defer cancel()
	rep, err := cl.Devices(cctx)
	var nr *control.NotRunningError
	switch {
	case errors.As(err, &nr):
		rep = localDevices(cctx, cfg)
		if !f.json {
			fmt.Fprintf(cio.stdout, "the daemon is not running (no control socket at %s): "+
				"discovery ran here, configured devices have no state\n\n", nr.Addr)
		}
	case err != nil:
		return ctlErr(err)
	}
	if f.json {
		return printJSON(cio.stdout, rep)
	}
	printDevices(cio.stdout, rep)
	return nil
}

// localDevices is the report without the daemon: the configuration's
// devices (when it could be read) and local discovery.
func localDevices(ctx context.Context, cfg *daemon.Config) control.DevicesReport {
	rep := control.DevicesReport{Lanes: []control.LaneDevices{}}
	if cfg != nil {
		rep.Lanes = daemon.ConfiguredDevices(cfg)
	}
	rep.Discovery = daemon.DiscoverDevices(ctx, cfg)
	return rep
}

func printDevices(w io.Writer, rep control.DevicesReport) {
	fmt.Fprintln(w, "configured:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  LANE\tKIND\tNAME\tBACKEND\tWHERE\tSTATE")
	for _, l := range rep.Lanes {
		for _, d := range []struct {
			kind string
			cd   *control.ConfiguredDevice
		}{{"printer", l.Printer}, {"scanner", l.Scanner}} {
			if d.cd == nil {
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", l.Lane, d.kind, d.cd.Name, d.cd.Backend, d.cd.Where,
				deviceState(l.States, d.kind, d.cd.Name, rep.FromDaemon))
		}
	}
	tw.Flush()
	printDiscovery(w, rep.Discovery)
}

// deviceState finds a configured device's state.
func deviceState(states []devices.DeviceState, kind, name string, fromDaemon bool) string {
	if !fromDaemon {
		return "(daemon not running)"
	}
	for _, s := range states {
		if s.Kind == kind && s.Name == name {
			if s.Detail != "" {
				return s.State + " (" + s.Detail + ")"
			}
			return s.State
		}
	}
	return "unknown"
}

func printDiscovery(w io.Writer, r devices.Report) {
	fmt.Fprintln(w, "\nUSB devices:")
	if r.USBErr != "" {
		fmt.Fprintf(w, "  (%s)\n", r.USBErr)
	} else if len(r.USB) == 0 {
		fmt.Fprintln(w, "  (none found)")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, d := range r.USB {
		note := ""
		if d.Err != "" {
			note = " — " + d.Err
		}
		fmt.Fprintf(tw, "  %04x:%04x\tbus %d addr %d\t%s\t%s %s\t%s%s\n", d.VID, d.PID, d.Bus, d.Address, d.Role,
			d.Manufacturer, d.Product, d.Serial, note)
	}
	tw.Flush()
	fmt.Fprintln(w, "serial ports:")
	if r.SerialErr != "" {
		fmt.Fprintf(w, "  (%s)\n", r.SerialErr)
	} else if len(r.Serial) == 0 {
		fmt.Fprintln(w, "  (none found)")
	}
	for _, p := range r.Serial {
		usb := ""
		if p.IsUSB {
			usb = fmt.Sprintf(" usb %s:%s %s %s", p.VID, p.PID, p.Product, p.SerialNumber)
		}
		fmt.Fprintf(w, "  %s%s\n", p.Name, usb)
	}
	if len(r.Network) > 0 {
		fmt.Fprintln(w, "network devices:")
	}
	for _, n := range r.Network {
		state := fmt.Sprintf("reachable in %s", n.Latency.Round(time.Millisecond))
		if !n.Reachable {
			state = "NOT reachable: " + firstOf(n.Err, n.Code)
		}
		fmt.Fprintf(w, "  %s %s: %s\n", n.Name, n.Addr, state)
	}
}
