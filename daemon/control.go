package daemon

import "github.com/tillbridge/tillbridge/control"

// ControlAddress is where the control API listens for cfg: [control]
// socket when set, else DATA/control.sock (or the default pipe on Windows).
func ControlAddress(cfg *Config) string {
	if cfg.Control.Socket != "" {
		return cfg.Control.Socket
	}
	return control.DefaultAddress(cfg.Daemon.DataDir)
}
