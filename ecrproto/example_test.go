package ecrproto_test

import (
	"context"
	"fmt"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// A server on loopback TCP with a handler that approves every sale, and a
// client taking one sale in the legacy framed encoding.
func Example() {
	ctx := context.Background()
	srv := ecrproto.NewServer(ecrproto.ServerOptions{})
	ln, err := ecrproto.Listen(ctx, ecrproto.ListenConfig{Address: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)

	// The daemon listens first and installs its handler once it is ready.
	srv.SetHandler(ecrproto.HandlerFunc(func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
		w.Send(&ecrproto.Message{Type: ecrproto.TypeEvent, Event: ecrproto.EventSent})
		w.Send(&ecrproto.Message{Type: ecrproto.TypeResult, Status: ecrproto.StatusApproved,
			Amount: req.Amount, Currency: req.Currency, AlipayTransID: "2026112522001400000000000001"})
	}))

	c, err := ecrproto.Dial(ctx, "tcp", ln.Addr().String(), &ecrproto.ClientOptions{
		Framed:  true,
		OnEvent: func(m *ecrproto.Message) { fmt.Println("event", m.Event) },
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	r, err := c.Sale(ctx, "1", "R000123", 1250, "HKD", "281234567890123400")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Type, r.Status, *r.Amount, r.Currency, r.AlipayTransID)
	// Output:
	// event SENT
	// RESULT APPROVED 1250 HKD 2026112522001400000000000001
}
