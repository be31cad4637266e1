package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tillbridge/tillbridge/control"
)

func gatewayCheckCommand() command {
	return command{name: "gateway-check", summary: "prove keys, connectivity and clock with a query of a trade that does not exist",
		run: runGatewayCheck}
}

const gatewayCheckUsage = `usage: tillbridge gateway-check [--config FILE | --data DIR | --socket ADDR] [--json]

Makes the running daemon send a signed query for a trade that cannot exist
(partner_trans_id TBCHECK...). A verified "no such trade" answer proves the
keys, the partner id and the connection; the gateway's clock (its Date
header) is compared with this till's. No real trade is touched. It prints the
latency, a verdict and what to do:

  ok                    everything is fine
  key_mismatch          ILLEGAL_SIGN: the MD5 key / private key does not match Alipay's
  bad_answer_signature  the answer's signature did not verify: wrong Alipay public key or MD5 key
  partner               ILLEGAL_PARTNER: wrong partner id, or wrong environment
  no_privilege          the contract does not cover the service or sign type
  network, timeout      no answer: network, DNS, firewall, proxy
  tls                   TLS failed: intercepting proxy or a wrong clock
  http, not_gateway     gateway.url is wrong, or a proxy / captive portal answered
  gateway_error         Alipay answered SYSTEM_ERROR: its side has a problem
  clock_skew            all fine, but this till's clock is more than 2 minutes off
  config                the keys could not be loaded (run tillbridge config check)

Exit codes: 0 ok; 1 any other verdict; 3 the daemon is not running; 4 the
daemon is still starting.

Examples:
  tillbridge gateway-check
  tillbridge gateway-check --json
`

func runGatewayCheck(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	fs := newCtlFlagSet("gateway-check", gatewayCheckUsage, cio, &f)
	if err := parseCtl(fs, args, false); err != nil {
		return err
	}
	res, err := callDaemon(ctx, &f, 2*time.Minute, func(c context.Context, cl *control.Client) (control.GatewayCheckResult, error) {
		return cl.GatewayCheck(c)
	})
	if err != nil {
		return err
	}
	if f.json {
		if err := printJSON(cio.stdout, res); err != nil {
			return err
		}
	} else {
		printGatewayCheck(cio.stdout, res)
	}
	if !res.OK {
		return &exitError{code: exitFailure, err: errors.New("")}
	}
	return nil
}

func printGatewayCheck(w io.Writer, r control.GatewayCheckResult) {
	fmt.Fprintf(w, "gateway %s (partner %s, %s)\n", r.URL, r.Partner, r.SignType)
	fmt.Fprintf(w, "  query of %s: ", r.TradeID)
	switch {
	case r.Answered:
		fmt.Fprintf(w, "answered HTTP %d in %d ms", r.HTTPStatus, r.LatencyMS)
		if r.Code != "" {
			fmt.Fprintf(w, ", code %s", r.Code)
		}
		fmt.Fprintf(w, ", signature verified: %s\n", yesNo(r.Verified))
	default:
		fmt.Fprintf(w, "no answer after %d ms\n", r.LatencyMS)
	}
	if r.ClockKnown {
		fmt.Fprintf(w, "  clock: this till is %s off the gateway's\n", time.Duration(r.ClockSkewMS)*time.Millisecond)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
	fmt.Fprintf(w, "verdict: %s\n  %s\n", r.Verdict, r.Advice)
}
