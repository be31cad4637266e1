//go:build windows

package installer

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"
)

// errLinuxOnly is returned by the Linux-only operations.
var errLinuxOnly = errors.New("only on Linux")

// checkTrusted refuses a binary (or a folder above it) that Everyone,
// Authenticated Users or Users may change: the service runs it as
// LocalSystem. The service's own folders get a protected ACL at install.
func (osHost) checkTrusted(p Plan) error { return CheckTrustedBinary(p.Executable) }

func (osHost) preflight(p Plan) error {
	if p.OS != runtime.GOOS {
		return fmt.Errorf("%w: this is %s; a %s plan can only be shown with --dry-run", ErrInvalidPlan, runtime.GOOS, p.OS)
	}
	if !windows.GetCurrentProcessToken().IsElevated() {
		return ErrNotAdmin
	}
	return nil
}

func (osHost) userExists(string) (bool, error)          { return false, errLinuxOnly }
func (osHost) groupExists(string) (bool, error)         { return false, errLinuxOnly }
func (osHost) chown(string, string, string, bool) error { return errLinuxOnly }

// restrictACL replaces the folder's DACL by sddl's, protected from
// inheritance; files and folders below inherit it.
func (osHost) restrictACL(dir, sddl string) error {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return fmt.Errorf("parse SDDL: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("SDDL DACL: %w", err)
	}
	info := windows.SECURITY_INFORMATION(windows.DACL_SECURITY_INFORMATION | windows.PROTECTED_DACL_SECURITY_INFORMATION)
	if err := windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, info, nil, nil, dacl, nil); err != nil {
		return fmt.Errorf("set ACL of %s: %w", dir, err)
	}
	return nil
}

// setRecovery sets the recovery actions explicitly through the SCM and
// reads them back: a service that silently has no recovery actions is the
// failure this guards against (kardianos/service#401).
func (osHost) setRecovery(w WindowsService) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(w.Name)
	if err != nil {
		return fmt.Errorf("open service %s: %w", w.Name, err)
	}
	defer s.Close()
	want := mgrActions(w.Recovery)
	if err := s.SetRecoveryActions(want, uint32(w.ResetPeriod/time.Second)); err != nil {
		return fmt.Errorf("set recovery actions: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(w.RecoveryOnNonCrashFailures); err != nil {
		return fmt.Errorf("set recovery on non-crash failures: %w", err)
	}
	return verifyService(s, w, want)
}

// mgrActions converts the plan's actions to the SCM's.
func mgrActions(actions []RecoveryAction) []mgr.RecoveryAction {
	out := make([]mgr.RecoveryAction, 0, len(actions))
	for _, a := range actions {
		out = append(out, mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: a.Delay})
	}
	return out
}

// verifyService reads the service back and compares it with w.
func verifyService(s *mgr.Service, w WindowsService, want []mgr.RecoveryAction) error {
	got, err := s.RecoveryActions()
	if err != nil {
		return fmt.Errorf("read back recovery actions: %w", err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("recovery actions did not take: read back %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Type != want[i].Type || got[i].Delay != want[i].Delay {
			return fmt.Errorf("recovery action %d did not take: %+v, want %+v", i+1, got[i], want[i])
		}
	}
	cfg, err := s.Config()
	if err != nil {
		return fmt.Errorf("read back service config: %w", err)
	}
	if cfg.StartType != mgr.StartAutomatic || cfg.DelayedAutoStart != w.DelayedAutoStart {
		return fmt.Errorf("start type did not take: start type %d, delayed %v", cfg.StartType, cfg.DelayedAutoStart)
	}
	return nil
}
