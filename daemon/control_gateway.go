package daemon

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/queue"
)

// MaxClockSkew is the largest difference between the till's clock and the
// gateway's that a gateway check accepts.
const MaxClockSkew = 2 * time.Minute

// GatewayCheck sends a signed query for a trade that cannot exist. A
// verified TRADE_NOT_EXIST answer proves the keys, the partner id and the
// connection; the answer's Date header shows the clock skew. It never
// touches a real trade. A failed check is a result, not an error.
func (d *Daemon) GatewayCheck(ctx context.Context) (control.GatewayCheckResult, error) {
	if !d.Ready() {
		return control.GatewayCheckResult{}, control.ErrStarting
	}
	g := d.cfg.Gateway
	res := control.GatewayCheckResult{URL: g.URL, Partner: g.Partner, SignType: g.SignType, At: time.Now()}
	id, err := checkTradeID()
	if err != nil {
		return res, err
	}
	res.TradeID = id
	if d.opts.Gateway != nil {
		return checkInjected(ctx, d.gw, res), nil
	}
	cfg, err := alipayConfig(g)
	if err != nil {
		return failed(res, control.VerdictConfig, err, "the gateway keys could not be loaded; run tillbridge config check"), nil
	}
	clock := &dateRecorder{base: http.DefaultTransport.(*http.Transport).Clone()}
	client, err := alipay.NewClient(cfg, alipay.WithHTTPClient(&http.Client{Transport: clock,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}))
	if err != nil {
		return failed(res, control.VerdictConfig, err, "the gateway settings are invalid; run tillbridge config check"), nil
	}
	start := time.Now()
	qr, err := client.Query(ctx, id)
	res.LatencyMS = time.Since(start).Milliseconds()
	res.HTTPStatus, res.Verified, res.Code = qr.Detail.HTTPStatus, qr.Detail.Verified, qr.Error
	res.Answered = qr.Detail.HTTPStatus != 0
	res.ServerTime, res.ClockSkewMS, res.ClockKnown = clock.skew()
	return judgeCheck(res, qr, err, g.Timeout), nil
}

// checkTradeID is a partner_trans_id no sale ever uses.
func checkTradeID() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("check id: %w", err)
	}
	return "TBCHECK-" + time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b), nil
}

// checkInjected checks a gateway the daemon was given (tests, a relay):
// only "not found" can be told apart there.
func checkInjected(ctx context.Context, gw queue.Gateway, res control.GatewayCheckResult) control.GatewayCheckResult {
	start := time.Now()
	qr, err := gw.Query(ctx, res.TradeID)
	res.LatencyMS, res.Code = time.Since(start).Milliseconds(), qr.Code
	if qr.Status == queue.TradeNotFound {
		res.Answered, res.Verified = true, true
		return passed(res)
	}
	return failed(res, control.VerdictUnknown, err, "the gateway did not answer \"no such trade\"; see the daemon's log")
}

// judgeCheck turns the query's answer into a verdict and advice.
func judgeCheck(res control.GatewayCheckResult, qr alipay.QueryResult, err error, timeout time.Duration) control.GatewayCheckResult {
	if qr.Status == alipay.StatusNotFound || (err == nil && qr.Detail.Verified && qr.Status != alipay.StatusUnknown) {
		return passed(res)
	}
	var (
		ge *alipay.GatewayError
		te *alipay.TransportError
		he *alipay.HTTPStatusError
		me *alipay.MalformedError
	)
	switch {
	case errors.As(err, &ge):
		res.Code = ge.Code
		return byCode(res, ge.Code, err)
	case errors.Is(err, alipay.ErrBadSignature), errors.Is(err, alipay.ErrMissingSignature):
		return failed(res, control.VerdictBadAnswerSig, err, "the gateway answered, but its signature did not verify: "+
			"the Alipay public key (alipay_public_key_file) or the MD5 key is wrong, or something between the till "+
			"and Alipay altered the answer")
	case errors.As(err, &te):
		return transportVerdict(res, te, timeout)
	case errors.As(err, &he):
		return failed(res, control.VerdictHTTP, err, fmt.Sprintf("the gateway URL answered HTTP %d: gateway.url is wrong, "+
			"or a proxy or captive portal is in the way", he.StatusCode))
	case errors.As(err, &me):
		return failed(res, control.VerdictNotGateway, err, "the answer is not an Alipay gateway answer: gateway.url points "+
			"elsewhere, or a proxy or captive portal answered")
	}
	return byCode(res, qr.Error, err)
}

// byCode judges a gateway refusal by its code.
func byCode(res control.GatewayCheckResult, code string, err error) control.GatewayCheckResult {
	switch code {
	case "ILLEGAL_SIGN":
		return failed(res, control.VerdictKeyMismatch, err, fmt.Sprintf("the gateway rejected the request's signature "+
			"(ILLEGAL_SIGN): the %s key in [gateway] does not match the one Alipay holds for partner %s; check "+
			"sign_type and the key file (copy the key again from the Alipay merchant portal)", res.SignType, res.Partner))
	case "ILLEGAL_PARTNER":
		return failed(res, control.VerdictPartner, err, fmt.Sprintf("the gateway does not know partner %s (ILLEGAL_PARTNER): "+
			"check gateway.partner, and that gateway.url is the right environment (sandbox or production)", res.Partner))
	case "ILLEGAL_PARTNER_EXTERFACE", "HAS_NO_PRIVILEGE", "ILLEGAL_EXTERFACE", "ILLEGAL_SIGN_TYPE":
		return failed(res, control.VerdictNoPrivilege, err, fmt.Sprintf("partner %s may not use this service this way (%s): "+
			"the Alipay contract or the sign type does not cover it; contact Alipay or the acquirer", res.Partner, code))
	case "SYSTEM_ERROR":
		return failed(res, control.VerdictGatewayError, err, "Alipay answered SYSTEM_ERROR: the problem is on its side; "+
			"payments in doubt are queried and retried by the journal; try the check again later")
	}
	return failed(res, control.VerdictUnknown, err, fmt.Sprintf("unexpected answer (code %q); see the daemon's log", code))
}

// transportVerdict judges a request that got no usable answer.
func transportVerdict(res control.GatewayCheckResult, te *alipay.TransportError, timeout time.Duration) control.GatewayCheckResult {
	var cv *tls.CertificateVerificationError
	var inv x509.CertificateInvalidError
	switch {
	case errors.As(te, &inv) && inv.Reason == x509.Expired:
		return failed(res, control.VerdictTLS, te, "the gateway's certificate looks expired or not yet valid: this till's "+
			"clock is probably wrong (Linux: timedatectl set-ntp true; Windows: w32tm /resync)")
	case errors.As(te, &cv), strings.Contains(te.Error(), "x509:"), strings.Contains(te.Error(), "tls:"):
		return failed(res, control.VerdictTLS, te, "the TLS connection failed: a proxy that intercepts HTTPS, a missing "+
			"root certificate, or a wrong clock")
	case te.Timeout:
		return failed(res, control.VerdictTimeout, te, fmt.Sprintf("no answer within %s: check the network, firewall and "+
			"proxy; if the network is fine, Alipay is slow: try again", timeout))
	}
	return failed(res, control.VerdictNetwork, te, "the gateway could not be reached: check the till's network cable or "+
		"Wi-Fi, DNS, firewall and proxy, and gateway.url")
}

// passed marks a check good, unless the clock is off.
func passed(res control.GatewayCheckResult) control.GatewayCheckResult {
	skew := time.Duration(res.ClockSkewMS) * time.Millisecond
	if res.ClockKnown && (skew > MaxClockSkew || skew < -MaxClockSkew) {
		res.Verdict = control.VerdictClockSkew
		res.Advice = fmt.Sprintf("keys and connectivity are fine, but this till's clock is %s off the gateway's: "+
			"fix time sync (Linux: timedatectl set-ntp true; Windows: w32tm /resync); cancels carry a timestamp "+
			"and the cancel window follows the Beijing day", skew.Round(time.Second))
		return res
	}
	res.OK, res.Verdict = true, control.VerdictOK
	res.Advice = "keys, partner id, connectivity and clock are fine: the gateway answered a signed query for a " +
		"trade that does not exist with \"no such trade\", and its answer verified"
	return res
}

// failed marks a check bad with a verdict and advice.
func failed(res control.GatewayCheckResult, verdict string, err error, advice string) control.GatewayCheckResult {
	res.OK, res.Verdict, res.Advice = false, verdict, advice
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// dateRecorder is an http.RoundTripper that keeps the gateway's Date header
// and the local time halfway through the exchange, for the clock skew.
type dateRecorder struct {
	base http.RoundTripper

	mu     sync.Mutex
	server time.Time
	local  time.Time
}

// RoundTrip implements http.RoundTripper.
func (d *dateRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := d.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	end := time.Now()
	if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
		d.mu.Lock()
		d.server, d.local = t, start.Add(end.Sub(start)/2)
		d.mu.Unlock()
	}
	return resp, nil
}

// skew returns the gateway's time and local minus gateway time; the Date
// header has whole seconds, so differences under a second read as none.
func (d *dateRecorder) skew() (time.Time, int64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.server.IsZero() {
		return time.Time{}, 0, false
	}
	s := d.local.Sub(d.server)
	if s > -time.Second && s < time.Second {
		s = 0
	}
	return d.server, s.Milliseconds(), true
}
