package soak

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// closingWorkers is how many connections ask the closing STATUS.
const closingWorkers = 8

// closingStatus asks STATUS once more for every ref the ECRs used and
// records the answer as what each was finally told. A PENDING answer is
// asked again for a while; what is left PENDING is recorded as such.
func (d *driver) closingStatus(ctx context.Context) {
	told, _ := d.rec.snapshot()
	jobs := make(chan Told)
	var wg sync.WaitGroup
	for i := range closingWorkers {
		cl := &client{addr: d.addr, framed: d.cfg.FramedRate, rng: rand.New(rand.NewPCG(d.cfg.Seed, uint64(1000+i))), stats: d.stats}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cl.close()
			for t := range jobs {
				d.closeOne(ctx, cl, t)
			}
		}()
	}
	for _, t := range told {
		jobs <- t
	}
	close(jobs)
	wg.Wait()
}

// closeOne asks the closing STATUS of one ref, retrying while the
// daemon is unavailable and while the answer is PENDING, for a while.
func (d *driver) closeOne(ctx context.Context, cl *client, t Told) {
	st := statusMsg(t.Lane, t.Ref)
	status, reason := "", ""
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); {
		res, err := cl.do(ctx, st, 10*time.Second, false)
		switch {
		case err != nil, res.Type == ecrproto.TypeError && res.Code == ecrproto.CodeUnavailable:
		case res.Type == ecrproto.TypeError:
			d.rec.final(t.Kind, t.Lane, t.Ref, res.Code, res.Message)
			return
		case res.Status == ecrproto.StatusPending:
			status, reason = res.Status, res.Reason
		default:
			d.rec.final(t.Kind, t.Lane, t.Ref, res.Status, res.Reason)
			return
		}
		if sleep(ctx, pollPause) != nil {
			break
		}
	}
	d.rec.final(t.Kind, t.Lane, t.Ref, status, reason)
}
