package soak

import (
	"context"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// scripted is an ECR server whose answers follow a script, recording
// every request it gets.
type scripted struct {
	mu     sync.Mutex
	got    []*ecrproto.Message
	script func(n int, req *ecrproto.Message, w ecrproto.ResponseWriter, ctx context.Context)
}

func (s *scripted) ServeECR(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	s.mu.Lock()
	n := len(s.got)
	s.got = append(s.got, req.Clone())
	s.mu.Unlock()
	s.script(n, req, w, ctx)
}

func (s *scripted) requests() []*ecrproto.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*ecrproto.Message(nil), s.got...)
}

// serve starts the scripted server on a loopback port.
func serve(t *testing.T, s *scripted) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, s, ln)
}

func serveOn(t *testing.T, s *scripted, ln net.Listener) string {
	t.Helper()
	srv := ecrproto.NewServer(ecrproto.ServerOptions{Handler: s})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func result(status string) *ecrproto.Message {
	return &ecrproto.Message{Type: ecrproto.TypeResult, Status: status}
}

// hang sends an EVENT and then never answers (until the connection goes).
func hang(w ecrproto.ResponseWriter, ctx context.Context) {
	_ = w.Send(&ecrproto.Message{Type: ecrproto.TypeEvent, Event: ecrproto.EventSent})
	<-ctx.Done()
}

func testSale() saleSpec {
	return saleSpec{lane: "1", ref: "R1", currency: "HKD", code: "281234567890123400", scenario: "00", amount: 1250}
}

// runExchange drives a SALE exchange (as the lane worker builds it)
// against addr and returns its outcome, what was heard and the stats.
func runExchange(t *testing.T, addr string, framed float64, drop bool) (outcome, []string, *Stats) {
	t.Helper()
	st := &Stats{}
	cl := &client{addr: addr, framed: framed, rng: rand.New(rand.NewPCG(1, 2)), stats: st}
	defer cl.close()
	s := testSale()
	x := exchange{req: s.message("tag"), recover: statusMsg(s.lane, s.ref), poll: statusMsg(s.lane, s.ref),
		timeout: 5 * time.Second, bound: 20 * time.Second, drop: drop}
	var heard []string
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := x.run(ctx, cl, func(m *ecrproto.Message) { heard = append(heard, m.Status) })
	return out, heard, st
}

func types(ms []*ecrproto.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Type)
	}
	return out
}

func sameList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestExchangeRecovery checks the ECR client's recovery rules against a
// scripted server, in both encodings.
func TestExchangeRecovery(t *testing.T) {
	cases := []struct {
		name   string
		drop   bool
		script func(n int, req *ecrproto.Message, w ecrproto.ResponseWriter, ctx context.Context)
		want   []string // request types, in order
		final  string
	}{
		{"dropped mid-sale: STATUS for the same ref", true,
			func(n int, req *ecrproto.Message, w ecrproto.ResponseWriter, ctx context.Context) {
				if n == 0 {
					hang(w, ctx)
					return
				}
				_ = w.Send(result(ecrproto.StatusApproved))
			}, []string{"SALE", "STATUS"}, ecrproto.StatusApproved},
		{"STATUS finds nothing: the same SALE again", true,
			func(n int, req *ecrproto.Message, w ecrproto.ResponseWriter, ctx context.Context) {
				switch n {
				case 0:
					hang(w, ctx)
				case 1:
					_ = w.Send(ecrproto.Errorf(ecrproto.CodeNotFound, "no such sale").Reply(req))
				default:
					_ = w.Send(result(ecrproto.StatusDeclined))
				}
			}, []string{"SALE", "STATUS", "SALE"}, ecrproto.StatusDeclined},
		{"PENDING: poll STATUS until final", false,
			func(n int, req *ecrproto.Message, w ecrproto.ResponseWriter, ctx context.Context) {
				if n < 2 {
					_ = w.Send(result(ecrproto.StatusPending))
					return
				}
				_ = w.Send(result(ecrproto.StatusCancelled))
			}, []string{"SALE", "STATUS", "STATUS"}, ecrproto.StatusCancelled},
		{"E_UNAVAILABLE and E_LANE_BUSY: repeat the request", false,
			func(n int, req *ecrproto.Message, w ecrproto.ResponseWriter, ctx context.Context) {
				switch n {
				case 0:
					_ = w.Send(ecrproto.Errorf(ecrproto.CodeUnavailable, "starting up").Reply(req))
				case 1:
					_ = w.Send(ecrproto.Errorf(ecrproto.CodeLaneBusy, "busy").Reply(req))
				default:
					_ = w.Send(result(ecrproto.StatusApproved))
				}
			}, []string{"SALE", "SALE", "SALE"}, ecrproto.StatusApproved},
		{"an unexpected ERROR ends the exchange", false,
			func(n int, req *ecrproto.Message, w ecrproto.ResponseWriter, ctx context.Context) {
				_ = w.Send((&ecrproto.Error{Code: ecrproto.CodeRefConflict, Field: "amount", Message: "other amount"}).Reply(req))
			}, []string{"SALE"}, ""},
	}
	for _, tc := range cases {
		for _, framed := range []float64{0, 1} {
			name := tc.name + map[float64]string{0: " (JSON)", 1: " (framed)"}[framed]
			t.Run(name, func(t *testing.T) {
				srv := &scripted{script: tc.script}
				out, heard, st := runExchange(t, serve(t, srv), framed, tc.drop)
				got := srv.requests()
				if !sameList(types(got), tc.want) {
					t.Fatalf("requests %v, want %v", types(got), tc.want)
				}
				for _, m := range got {
					if m.Lane != "1" || m.Ref != "R1" {
						t.Errorf("%s for %s/%s: recovery must keep lane 1 and ref R1", m.Type, m.Lane, m.Ref)
					}
					if m.Type == "SALE" && (m.Barcode != "281234567890123400" || m.Amount == nil || *m.Amount != 1250) {
						t.Errorf("repeated SALE differs: %+v", m)
					}
				}
				checkOutcome(t, out, heard, tc.final)
				if tc.drop && st.Drops.Load() != 1 {
					t.Errorf("drops %d, want 1", st.Drops.Load())
				}
			})
		}
	}
}

func checkOutcome(t *testing.T, out outcome, heard []string, final string) {
	t.Helper()
	if final == "" {
		if out.res == nil || out.res.Type != ecrproto.TypeError || len(heard) != 0 {
			t.Fatalf("outcome %+v heard %v, want the ERROR and nothing heard", out.res, heard)
		}
		return
	}
	if out.res == nil || out.res.Status != final || !sameList(heard, []string{final}) {
		t.Fatalf("outcome %+v heard %v, want %s heard once (never PENDING)", out.res, heard, final)
	}
}

// TestExchangeWaitsForDaemon: with nothing listening yet, the client
// retries the connection until the daemon comes up.
func TestExchangeWaitsForDaemon(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := &scripted{script: func(n int, req *ecrproto.Message, w ecrproto.ResponseWriter, ctx context.Context) {
		_ = w.Send(result(ecrproto.StatusApproved))
	}}
	up := make(chan struct{})
	go func() {
		defer close(up)
		time.Sleep(300 * time.Millisecond)
		ln2, err := net.Listen("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		serveOn(t, srv, ln2)
	}()
	out, heard, _ := runExchange(t, addr, 0.5, false)
	<-up
	checkOutcome(t, out, heard, ecrproto.StatusApproved)
	if got := types(srv.requests()); !sameList(got, []string{"SALE"}) {
		t.Fatalf("requests %v, want one SALE", got)
	}
}
