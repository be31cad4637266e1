package daemon

import (
	"context"
	"io"
	"runtime"
	"time"

	"github.com/rs/zerolog"

	"github.com/tillbridge/tillbridge/queue"
)

// DaemonNotRunning is the state of an offline backend's snapshot.
const DaemonNotRunning = "not running"

// WriteSupportBundle writes the support bundle of b as a zip to w (the
// control API's support-bundle endpoint does the same for the running
// daemon). Every file passes the redaction filter.
func WriteSupportBundle(ctx context.Context, w io.Writer, b ControlBackend) error {
	s := &controlServer{b: b, log: zerolog.Nop()}
	return s.writeBundle(ctx, w, newBundleRedactor(b.Secrets()))
}

// OfflineBackend is a ControlBackend for a daemon that is not running:
// what the configuration file and this machine can tell. cfg may be nil
// when the configuration could not be read. Tests, the journal and the
// gateway check answer that the daemon is not running.
func OfflineBackend(cfg *Config, version string) ControlBackend {
	return offlineBackend{cfg: cfg, version: version}
}

type offlineBackend struct {
	cfg     *Config
	version string
}

var errOffline = controlErrorf(CodeUnavailable, "the daemon is not running")

func (o offlineBackend) Snapshot(context.Context) (StatusSnapshot, error) {
	s := StatusSnapshot{Version: o.version, GoOS: runtime.GOOS + "/" + runtime.GOARCH, State: DaemonNotRunning,
		Lanes: []LaneStatus{}}
	if o.cfg != nil {
		g := o.cfg.Gateway
		s.DataDir, s.Control = o.cfg.Daemon.DataDir, ControlAddress(o.cfg)
		s.Gateway = GatewayHealth{URL: g.URL, Partner: g.Partner, SignType: g.SignType, Reachable: ReachableUnknown}
		for _, l := range o.cfg.Lanes {
			s.Lanes = append(s.Lanes, LaneStatus{ID: l.ID, TerminalID: l.TerminalID})
		}
	}
	return s, nil
}

func (o offlineBackend) Journal() (*queue.Engine, error) { return nil, errOffline }

func (o offlineBackend) Devices(ctx context.Context) (DevicesReport, error) {
	rep := DevicesReport{Lanes: []LaneDevices{}}
	if o.cfg != nil {
		rep.Lanes = ConfiguredDevices(o.cfg)
	}
	rep.Discovery = DiscoverDevices(ctx, o.cfg)
	return rep, nil
}

func (o offlineBackend) PrintTest(context.Context, string) (PrintTestResult, error) {
	return PrintTestResult{}, errOffline
}

func (o offlineBackend) ScanTest(context.Context, string, time.Duration) (ScanTestResult, error) {
	return ScanTestResult{}, errOffline
}

func (o offlineBackend) GatewayCheck(context.Context) (GatewayCheckResult, error) {
	return GatewayCheckResult{}, errOffline
}

func (o offlineBackend) RedactedConfig() *Config {
	if o.cfg == nil {
		return nil
	}
	return RedactedConfig(o.cfg)
}

func (o offlineBackend) Secrets() []string {
	if o.cfg == nil {
		return nil
	}
	return ConfigSecrets(o.cfg)
}

func (o offlineBackend) LogFile() string {
	if o.cfg == nil {
		return ""
	}
	return o.cfg.Daemon.LogFile
}
