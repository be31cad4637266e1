package installer

import (
	"fmt"
	"strings"
	"time"

	"github.com/kardianos/service"
)

// Windows service settings, as the Service Control Manager shows them.
const (
	WindowsStartAutomatic = "automatic"
	WindowsAccount        = "LocalSystem"
	RecoveryRestart       = "restart"
	// WindowsACL is the SDDL set on the tillbridge folders: full control
	// for SYSTEM and Administrators, nothing for anyone else, not inherited
	// from %ProgramData% (where Users may read by default).
	WindowsACL = "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
)

// RecoveryAction is one Windows recovery action: what the SCM does on the
// n-th failure of the service.
type RecoveryAction struct {
	Action string // RecoveryRestart
	Delay  time.Duration
}

// WindowsService is the Windows service definition of a plan. Install
// creates the service from it and then sets the recovery actions
// explicitly, reading them back to prove they took (kardianos/service sets
// only one action, and older versions none at all: kardianos/service#401).
type WindowsService struct {
	Name, DisplayName, Description string
	// Executable and Arguments form the service's command line.
	Executable string
	Arguments  []string
	// StartType is automatic; DelayedAutoStart starts it after the other
	// automatic services, when the network and USB stack are up.
	StartType        string
	DelayedAutoStart bool
	// Account is the service account.
	Account string
	// Recovery lists the actions on the 1st, 2nd and subsequent failures;
	// the failure count resets after ResetPeriod without failures.
	Recovery    []RecoveryAction
	ResetPeriod time.Duration
	// RecoveryOnNonCrashFailures also applies Recovery when the service
	// stops with an error exit code, not only when its process dies.
	RecoveryOnNonCrashFailures bool
	// EventSource is the Windows Event Log source registered for it.
	EventSource string
	// Environment is set in the service's registry key.
	Environment map[string]string
	// ACLFolders are the folders restricted to WindowsACL.
	ACLFolders []string
}

// WindowsSettings returns the Windows service definition of the plan.
func WindowsSettings(p Plan) (WindowsService, error) {
	if err := p.Validate(); err != nil {
		return WindowsService{}, err
	}
	if p.OS != "windows" {
		return WindowsService{}, fmt.Errorf("%w: Windows settings for a %s plan", ErrInvalidPlan, p.OS)
	}
	w := WindowsService{
		Name: p.Name, DisplayName: p.DisplayName, Description: p.Description,
		Executable: p.Executable, Arguments: p.Arguments(),
		StartType: WindowsStartAutomatic, DelayedAutoStart: true, Account: WindowsAccount,
		ResetPeriod: p.RecoveryReset, RecoveryOnNonCrashFailures: true,
		EventSource: p.Name, Environment: p.Environment(),
		ACLFolders: windowsFolders(p.Paths),
	}
	for _, d := range p.Recovery {
		w.Recovery = append(w.Recovery, RecoveryAction{Action: RecoveryRestart, Delay: d})
	}
	return w, nil
}

// windowsFolders are the distinct folders holding config, data and logs.
func windowsFolders(p Paths) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range []string{windowsDir(p.Config), p.Data, p.Logs} {
		if k := strings.ToLower(d); !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}

// windowsDir is the folder of a Windows file path, on any host.
func windowsDir(file string) string {
	if i := strings.LastIndexAny(file, `\/`); i > 2 {
		return file[:i]
	}
	return file
}

// CommandLine is the service's command line as the SCM stores it.
func (w WindowsService) CommandLine() string {
	parts := []string{windowsQuote(w.Executable)}
	for _, a := range w.Arguments {
		parts = append(parts, windowsQuote(a))
	}
	return strings.Join(parts, " ")
}

// windowsQuote quotes an argument holding spaces (paths here hold no
// quotes: Validate refuses them).
func windowsQuote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t") {
		return `"` + s + `"`
	}
	return s
}

// kardianosOptions are the kardianos/service options for the Windows
// service: automatic delayed start and a first restart action (the full
// recovery list is set afterwards through the SCM).
func (w WindowsService) kardianosOptions() service.KeyValue {
	kv := service.KeyValue{
		"StartType":        w.StartType,
		"DelayedAutoStart": w.DelayedAutoStart,
	}
	if len(w.Recovery) > 0 {
		kv["OnFailure"] = w.Recovery[0].Action
		kv["OnFailureDelayDuration"] = w.Recovery[0].Delay.String()
		kv["OnFailureResetPeriod"] = int(w.ResetPeriod / time.Second)
	}
	return kv
}
