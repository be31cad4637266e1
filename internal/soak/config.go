package soak

import (
	"fmt"
	"io"
	"time"
)

// Config is one soak run.
type Config struct {
	// Bin is the tillbridge binary to spawn (`tillbridge run --sandbox`).
	Bin string
	// Attach, when set, drives a running daemon instead of spawning one
	// (no kills then: the tool cannot restart it).
	Attach *Attach
	// Timings of a spawned daemon.
	Timings Timings

	// Lanes × Sales sales are driven (each lane sequentially); Sales 0
	// means until Duration.
	Lanes, Sales int
	// Mix draws each sale's scenario code.
	Mix Mix
	// Currencies are drawn per sale.
	Currencies []string
	// RefundRate of approved sales get a refund (full or partial);
	// CancelRate of sales get a CANCEL (mid-flight for the slow scenarios,
	// after APPROVED for the others); FramedRate of connections use the
	// legacy framed encoding; DropRate of sales lose their connection
	// mid-sale when Chaos.Drops is on.
	RefundRate, CancelRate, FramedRate, DropRate float64
	// Chaos switches.
	Chaos Chaos

	// Duration bounds the drive phase: no new sale starts after it.
	Duration time.Duration
	// Settle bounds the wait for every journal operation to be final.
	Settle time.Duration
	// Seed seeds every random choice.
	Seed uint64

	// Progress receives the progress line (nil: none); TTY redraws it in
	// place every ProgressEvery instead of printing a line each time.
	Progress      io.Writer
	TTY           bool
	ProgressEvery time.Duration
	// KeepData keeps a spawned daemon's data directory even when the run
	// passes (it is always kept on a violation).
	KeepData bool
}

// Attach names a running daemon: its ECR address, its sandbox's base URL
// and its data directory (for the journal).
type Attach struct {
	ECRAddr, SandboxURL, Data string
}

// Chaos are the switches of the fault injection, each independent.
type Chaos struct {
	// Faults opens gateway fault windows (down, slow, system_error) through
	// the sandbox's fault API about every FaultEvery.
	Faults     bool
	FaultEvery time.Duration
	// Kills SIGKILLs the daemon about every KillEvery and restarts it on
	// the same data.
	Kills     bool
	KillEvery time.Duration
	// Drops closes ECR connections mid-sale (DropRate of sales); the
	// client comes back with STATUS for the same ref.
	Drops bool
}

// ConfigError reports an invalid Config field.
type ConfigError struct {
	Field, Reason string
}

// Error implements error.
func (e *ConfigError) Error() string { return fmt.Sprintf("soak: %s: %s", e.Field, e.Reason) }

// DefaultConfig is the bounded default run of `make soak`: 20 lanes for
// about five minutes, every chaos switch on.
func DefaultConfig() Config {
	mix, _ := ParseMix(DefaultMix)
	return Config{Timings: DefaultTimings(), Lanes: 20, Mix: mix,
		Currencies: []string{"HKD", "JPY", "USD"}, RefundRate: 0.1, CancelRate: 0.05, FramedRate: 0.5,
		DropRate: 0.05, Chaos: Chaos{Faults: true, FaultEvery: 15 * time.Second, Kills: true,
			KillEvery: 30 * time.Second, Drops: true},
		Duration: 5 * time.Minute, Settle: 90 * time.Second, Seed: 1, ProgressEvery: 5 * time.Second}
}

// ShortConfig is the run of `make test`: every chaos switch on, small,
// about 40 seconds.
func ShortConfig() Config {
	c := DefaultConfig()
	c.Lanes, c.Sales, c.Duration = 8, 80, 35*time.Second
	c.Chaos.FaultEvery, c.Chaos.KillEvery = 4*time.Second, 9*time.Second
	c.DropRate = 0.1
	return c
}

func (c Config) validate() error {
	switch {
	case c.Attach == nil && c.Bin == "":
		return &ConfigError{"bin", "no daemon binary to spawn"}
	case c.Attach != nil && (c.Attach.ECRAddr == "" || c.Attach.SandboxURL == "" || c.Attach.Data == ""):
		return &ConfigError{"attach", "needs the ECR address, the sandbox URL and the data directory"}
	case c.Lanes <= 0 || c.Sales < 0:
		return &ConfigError{"lanes/sales", "lanes must be positive, sales not negative"}
	case len(c.Mix.codes) == 0:
		return &ConfigError{"mix", "empty"}
	case len(c.Currencies) == 0:
		return &ConfigError{"currencies", "empty"}
	case c.Duration <= 0 || c.Settle <= 0:
		return &ConfigError{"duration/settle", "must be positive"}
	}
	for name, r := range map[string]float64{"refund-rate": c.RefundRate, "cancel-rate": c.CancelRate,
		"framed-rate": c.FramedRate, "drop-rate": c.DropRate} {
		if r < 0 || r > 1 {
			return &ConfigError{name, "must be between 0 and 1"}
		}
	}
	return nil
}

// requestTimeout is how long an ECR waits for a RESULT before it treats
// the request as unanswered: the daemon's pay deadline, its cancel wait
// and two gateway timeouts, plus 10 s. An attached daemon is assumed to
// run on the production timings.
func (c *Config) requestTimeout() time.Duration {
	t := c.Timings
	if c.Attach != nil {
		t = ProductionTimings()
	}
	return t.PayDeadline + t.CancelWait + 2*t.GatewayTimeout + 10*time.Second
}

// exchangeBound bounds one request with all its recoveries.
func (c *Config) exchangeBound() time.Duration { return 4 * c.requestTimeout() }
