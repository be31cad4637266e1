package installer

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kardianos/service"
)

// fakeHost records what the installer does and plays a service manager
// whose state changes a few polls after each request.
type fakeHost struct {
	mu     sync.Mutex
	calls  []string
	users  map[string]bool
	groups map[string]bool
	files  map[string][]byte
	modes  map[string]fs.FileMode

	state ServiceState
	// next becomes the state after lag more status calls.
	next    *ServiceState
	lag     int
	lagEach int // polls before a requested change shows
	// stuck: stop requests never take effect.
	stuck bool
	// startTo is the state a start leads to (running by default).
	startTo State

	failRun      map[string]error // by command name (udevadm, useradd …)
	preflightErr error
	trustErr     error
	lastConfig   *service.Config
}

func newFakeHost() *fakeHost {
	return &fakeHost{
		users: map[string]bool{}, groups: map[string]bool{},
		files: map[string][]byte{}, modes: map[string]fs.FileMode{},
		state:   ServiceState{State: StateNotInstalled, Restarts: -1},
		lagEach: 2, failRun: map[string]error{},
	}
}

func (f *fakeHost) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeHost) log() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, "\n")
}

func (f *fakeHost) preflight(Plan) error { return f.preflightErr }

func (f *fakeHost) checkTrusted(Plan) error { return f.trustErr }

func (f *fakeHost) userExists(n string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[n], nil
}

func (f *fakeHost) groupExists(n string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.groups[n], nil
}

func (f *fakeHost) run(_ context.Context, name string, args ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("run %s %s", name, strings.Join(args, " "))
	return f.failRun[name]
}

func (f *fakeHost) mkdirAll(dir string, perm fs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("mkdir %s %04o", dir, perm)
	return nil
}

func (f *fakeHost) chmod(path string, perm fs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("chmod %s %04o", path, perm)
	return nil
}

func (f *fakeHost) chown(path, user, group string, recursive bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("chown %s %s:%s recursive=%v", path, user, group, recursive)
	return nil
}

func (f *fakeHost) createExcl(path string, data []byte, perm fs.FileMode) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.files[path]; ok {
		f.record("create %s: exists", path)
		return false, nil
	}
	f.files[path], f.modes[path] = bytes.Clone(data), perm
	f.record("create %s %04o", path, perm)
	return true, nil
}

func (f *fakeHost) writeFile(path string, data []byte, perm fs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[path], f.modes[path] = bytes.Clone(data), perm
	f.record("write %s %04o", path, perm)
	return nil
}

func (f *fakeHost) removeFile(path string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.files[path]
	delete(f.files, path)
	f.record("remove %s existed=%v", path, ok)
	return ok, nil
}

func (f *fakeHost) restrictACL(dir, sddl string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("acl %s %s", dir, sddl)
	return nil
}

func (f *fakeHost) setRecovery(w WindowsService) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("recovery %s %v reset=%s noncrash=%v", w.Name, w.Recovery, w.ResetPeriod, w.RecoveryOnNonCrashFailures)
	return nil
}

func (f *fakeHost) service(cfg *service.Config) (serviceControl, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastConfig = cfg
	return fakeService{f}, nil
}

// status answers the current state, applying a pending change once its
// lag has passed.
func (f *fakeHost) status(context.Context, string) (ServiceState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.next != nil {
		if f.lag == 0 {
			f.state, f.next = *f.next, nil
		} else {
			f.lag--
		}
	}
	return f.state, nil
}

// change schedules a state change (locked by the caller).
func (f *fakeHost) change(s State) {
	f.next, f.lag = &ServiceState{State: s, Restarts: -1}, f.lagEach
}

// fakeService is the service-manager handle of a fakeHost.
type fakeService struct{ f *fakeHost }

func (s fakeService) Install() error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.record("service install %s", s.f.lastConfig.Name)
	s.f.state = ServiceState{State: StateStopped, Restarts: 0}
	return nil
}

func (s fakeService) Uninstall() error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.record("service uninstall")
	s.f.change(StateNotInstalled)
	return nil
}

func (s fakeService) Start() error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.record("service start")
	to := s.f.startTo
	if to == "" {
		to = StateRunning
	}
	s.f.change(to)
	return nil
}

func (s fakeService) Stop() error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.record("service stop")
	if !s.f.stuck {
		s.f.change(StateStopped)
	}
	return nil
}

// testOps runs against h with fast polling and small bounds.
func testOps(t *testing.T, h host) (*ops, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	return &ops{h: h, out: &out, poll: time.Millisecond, stop: 5 * time.Second, start: 5 * time.Second, gone: 5 * time.Second}, &out
}
