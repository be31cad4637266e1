package control_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tillbridge/tillbridge/control"
)

func TestConsoleTokenUnsupportedWithoutConsole(t *testing.T) {
	e := startEnv(t)
	_, err := e.cl.ConsoleToken(e.ctx())
	if !errors.Is(err, &control.Error{Code: control.CodeUnsupported}) {
		t.Fatalf("console token from a backend without a console: %v, want unsupported", err)
	}
}

// TestLocalSharesTheServersVerdicts: a gateway check through Local counts
// in the status the control socket serves, and Local answers with the
// endpoints' stable error codes.
func TestLocalSharesTheServersVerdicts(t *testing.T) {
	e := startEnv(t)
	local := control.NewLocal(e.b, zerolog.Nop())
	addr := testAddr(t, t.TempDir())
	ln, err := control.Listen(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- control.Serve(ctx, ln, e.b, control.Options{Local: local}) }()
	cl := control.NewClient(addr)
	t.Cleanup(func() {
		cancel()
		cl.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	e.b.set(func(f *fakeBackend) {
		f.check = control.GatewayCheckResult{OK: true, Verdict: control.VerdictOK, At: time.Now()}
	})
	if _, err := local.GatewayCheck(e.ctx()); err != nil {
		t.Fatal(err)
	}
	s, err := cl.Status(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if s.Gateway.Reachable != control.ReachableYes {
		t.Errorf("the control socket's status after a console gateway check: reachable %q, want yes", s.Gateway.Reachable)
	}
	ls, err := local.Status(e.ctx())
	if err != nil || ls.Healthy != s.Healthy || len(ls.Problems) != len(s.Problems) || len(ls.Warnings) != len(s.Warnings) {
		t.Errorf("Local's verdict %v %v %v differs from the socket's %v %v %v (%v)", ls.Healthy, ls.Problems, ls.Warnings,
			s.Healthy, s.Problems, s.Warnings, err)
	}
	if _, err := local.Queue(e.ctx(), "bogus", "", 0); !errors.Is(err, &control.Error{Code: control.CodeInvalid}) {
		t.Errorf("Queue with a bad state: %v, want invalid", err)
	}
	if _, err := local.Operation(e.ctx(), "nope"); !errors.Is(err, &control.Error{Code: control.CodeNotFound}) {
		t.Errorf("Operation of an unknown id: %v, want not_found", err)
	}
	if _, err := local.Resolve(e.ctx(), "nope", control.ResolveRequest{State: "paid", Reason: "r", Operator: "o"}); !errors.Is(err, &control.Error{Code: control.CodeNotFound}) {
		t.Errorf("Resolve of an unknown id: %v, want not_found", err)
	}
	if local.Reconcile() != nil {
		t.Error("Reconcile of a backend without the job: not nil")
	}
}
