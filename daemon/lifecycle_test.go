package daemon

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

const lifecycleBound = 30 * time.Second

// startSandboxDaemon runs a sandbox daemon with opts on loopback ports.
func startSandboxDaemon(t *testing.T, opts Options) (*Daemon, context.CancelFunc, <-chan error) {
	t.Helper()
	dir := t.TempDir()
	sb, err := StartSandbox(SandboxOptions{DataDir: dir, ECRListen: "127.0.0.1:0", SandboxListen: "127.0.0.1:0", Lanes: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close(context.Background()) })
	d, err := New(sb.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(cancel)
	return d, cancel, done
}

// TestListenFirstAnswersUnavailable: a till that connects while the daemon
// is still starting hears E_UNAVAILABLE, not "connection refused", and the
// same connection works once the daemon is ready.
func TestListenFirstAnswersUnavailable(t *testing.T) {
	hold, release := make(chan struct{}), make(chan struct{})
	addrs := make(chan []net.Addr, 1)
	opts := Options{OnReady: func(a []net.Addr) { addrs <- a }}
	opts.beforeHandler = func() {
		close(hold)
		<-release
	}
	d, _, done := startSandboxDaemon(t, opts)
	select {
	case <-hold:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lifecycleBound)
	defer cancel()
	c, err := ecrproto.Dial(ctx, "tcp", d.Addrs()[0].String(), nil)
	if err != nil {
		t.Fatalf("connect while starting: %v", err)
	}
	defer c.Close()
	res, err := c.Status(ctx, "1", "")
	if err != nil || res.Code != ecrproto.CodeUnavailable {
		t.Fatalf("while starting: %+v, %v; want E_UNAVAILABLE", res, err)
	}
	close(release)
	<-addrs
	res, err = c.Status(ctx, "1", "")
	if err != nil || res.Code != ecrproto.CodeNotFound {
		t.Fatalf("once ready: %+v, %v; want E_NOT_FOUND (no sale yet)", res, err)
	}
}

// TestShutdownAnswersPending: a till waiting on a sale when the daemon is
// stopped hears PENDING (reason STOPPING), Run returns, and the sale is
// kept in the journal.
func TestShutdownAnswersPending(t *testing.T) {
	addrs := make(chan []net.Addr, 1)
	_, stop, done := startSandboxDaemon(t, Options{OnReady: func(a []net.Addr) { addrs <- a }})
	a := <-addrs
	waiting := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), lifecycleBound)
	defer cancel()
	c, err := ecrproto.Dial(ctx, "tcp", a[0].String(), &ecrproto.ClientOptions{OnEvent: func(m *ecrproto.Message) {
		if m.Event == ecrproto.EventWaitScan {
			close(waiting)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res := make(chan *ecrproto.Message, 1)
	go func() {
		m, _ := c.Sale(ctx, "1", "SD1", 100, "HKD", "")
		res <- m
	}()
	<-waiting
	stop()
	if m := <-res; m == nil || m.Status != ecrproto.StatusPending || m.Reason != ReasonStopping {
		t.Fatalf("answer at shutdown: %+v", m)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(lifecycleBound):
		t.Fatal("Run did not return")
	}
}
