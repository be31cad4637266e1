package soak

import (
	"context"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// exchange is one request driven to a final answer the way a careful ECR
// writer does it (docs/ecr-protocol.md, recovery): after a lost connection
// or a timeout it sends recover (STATUS for the same ref — never a new
// ref); after E_NOT_FOUND to that STATUS it sends the request again (it
// never got in); after E_UNAVAILABLE or E_LANE_BUSY it waits and repeats;
// after PENDING it polls with poll.
type exchange struct {
	req     *ecrproto.Message
	recover *ecrproto.Message // nil: repeat req (an idempotent request)
	poll    *ecrproto.Message // nil: repeat req
	timeout time.Duration     // per request
	bound   time.Duration     // for the whole exchange
	drop    bool              // drop the connection under the first request
}

// Poll and retry pauses of an exchange.
const (
	pollPause = 100 * time.Millisecond
	busyPause = 50 * time.Millisecond
)

// outcome is how an exchange ended.
type outcome struct {
	res     *ecrproto.Message // the final RESULT or ERROR; nil when it gave up
	expired bool              // the bound or ctx ended it
}

// run drives x with cl, reporting each final status heard through heard.
func (x exchange) run(ctx context.Context, cl *client, heard func(*ecrproto.Message)) outcome {
	end := time.Now().Add(x.bound)
	send, wait := x.req, busyPause
	drop := x.drop
	for time.Now().Before(end) && ctx.Err() == nil {
		res, err := cl.do(ctx, send, x.timeout, drop)
		drop = false
		switch {
		case err != nil:
			cl.stats.NoAnswer.Add(1)
			send = orMsg(x.recover, x.req)
		case res.Type == ecrproto.TypeError && res.Code == ecrproto.CodeUnavailable:
			cl.stats.Unavailable.Add(1)
		case res.Type == ecrproto.TypeError && res.Code == ecrproto.CodeLaneBusy:
			cl.stats.LaneBusy.Add(1)
		case res.Type == ecrproto.TypeError && res.Code == ecrproto.CodeNotFound && send != x.req:
			send = x.req
		case res.Type == ecrproto.TypeError:
			return outcome{res: res}
		case res.Status == ecrproto.StatusPending:
			send, wait = orMsg(x.poll, x.req), pollPause
		default:
			heard(res)
			return outcome{res: res}
		}
		if sleep(ctx, wait) != nil {
			break
		}
		if err != nil || res.Type == ecrproto.TypeError {
			wait = min(wait*2, backoffMax)
		}
	}
	return outcome{expired: true}
}

func orMsg(m, def *ecrproto.Message) *ecrproto.Message {
	if m != nil {
		return m
	}
	return def
}
