package daemon

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/tillbridge/tillbridge/control"
)

// OfflineBackend is a control.Backend for a daemon that is not running:
// what the configuration file and this machine can tell. cfg may be nil
// when the configuration could not be read. Tests, the journal and the
// gateway check answer that the daemon is not running.
func OfflineBackend(cfg *Config, version string) control.Backend {
	return offlineBackend{cfg: cfg, version: version}
}

type offlineBackend struct {
	cfg     *Config
	version string
}

var errOffline = control.Errorf(control.CodeUnavailable, "the daemon is not running")

// errNoConfig is the support bundle's note when the configuration could
// not be read.
var errNoConfig = errors.New("the configuration could not be read")

func (o offlineBackend) Snapshot(context.Context) (control.StatusSnapshot, error) {
	s := control.StatusSnapshot{Version: o.version, GoOS: runtime.GOOS + "/" + runtime.GOARCH,
		State: control.DaemonNotRunning, Lanes: []control.LaneStatus{}}
	if o.cfg != nil {
		g := o.cfg.Gateway
		s.DataDir, s.Control = o.cfg.Daemon.DataDir, ControlAddress(o.cfg)
		s.Gateway = control.GatewayHealth{URL: g.URL, Partner: g.Partner, SignType: g.SignType,
			Reachable: control.ReachableUnknown}
		for _, l := range o.cfg.Lanes {
			s.Lanes = append(s.Lanes, control.LaneStatus{ID: l.ID, TerminalID: l.TerminalID})
		}
	}
	return s, nil
}

func (o offlineBackend) Journal() (control.Journal, error) { return nil, errOffline }

func (o offlineBackend) Devices(ctx context.Context) (control.DevicesReport, error) {
	rep := control.DevicesReport{Lanes: []control.LaneDevices{}}
	if o.cfg != nil {
		rep.Lanes = ConfiguredDevices(o.cfg)
	}
	rep.Discovery = DiscoverDevices(ctx, o.cfg)
	return rep, nil
}

func (o offlineBackend) PrintTest(context.Context, string) (control.PrintTestResult, error) {
	return control.PrintTestResult{}, errOffline
}

func (o offlineBackend) ScanTest(context.Context, string, time.Duration) (control.ScanTestResult, error) {
	return control.ScanTestResult{}, errOffline
}

func (o offlineBackend) GatewayCheck(context.Context) (control.GatewayCheckResult, error) {
	return control.GatewayCheckResult{}, errOffline
}

func (o offlineBackend) SaleReceipt(context.Context, string, string) (control.SaleReceipt, error) {
	return control.SaleReceipt{}, errOffline
}

func (o offlineBackend) Support() control.SupportInfo {
	if o.cfg == nil {
		return control.SupportInfo{ConfigErr: errNoConfig}
	}
	return supportInfo(o.cfg)
}
