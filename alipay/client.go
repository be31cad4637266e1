package alipay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Client calls the gateway. It is safe for concurrent use.
type Client struct {
	cfg      Config
	signer   Signer
	verifier verifier
	endpoint string
	hc       *http.Client
	now      func() time.Time
	trace    func(TraceEvent)
}

// Option customises a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (transport, TLS, proxies). Its own
// Timeout, if any, applies in addition to Config.Timeout. The default client
// does not follow redirects; a supplied one keeps its own policy.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithClock sets the clock that stamps trans_create_time (pay) and the
// cancel timestamp. Signing and verification never read the clock.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// WithTrace sets a hook called once per gateway call, after the answer is
// classified; the daemon turns it into a log line. It must not block.
func WithTrace(fn func(TraceEvent)) Option {
	return func(c *Client) { c.trace = fn }
}

// TraceEvent describes one gateway call for logs. It never holds keys,
// signatures or full buyer codes.
type TraceEvent struct {
	// Service is the gateway service called.
	Service string
	// PartnerTransID is the merchant transaction id concerned.
	PartnerTransID string
	// PartnerRefundID is set for refunds.
	PartnerRefundID string
	// BuyerCode is the masked buyer code (pay only), see MaskCode.
	BuyerCode string
	// Outcome is the classification of the call.
	Outcome Outcome
	// HTTPStatus is the HTTP status (0 when no answer arrived).
	HTTPStatus int
	// ResultCode is the business result_code, if any.
	ResultCode string
	// ErrorCode is the business, detail or gateway error code, if any.
	ErrorCode string
	// Duration is the wall time of the call (monotonic clock).
	Duration time.Duration
	// Err is the call's error, if any; error texts of this package never
	// include keys, signatures or buyer codes.
	Err error
}

// NewClient validates cfg, applies its defaults and returns a Client.
func NewClient(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	signer, err := cfg.signer()
	if err != nil {
		return nil, &ConfigError{Field: "SignType", Reason: err.Error()}
	}
	ep, err := endpoint(cfg.GatewayURL, cfg.Charset)
	if err != nil {
		return nil, &ConfigError{Field: "GatewayURL", Reason: err.Error()}
	}
	c := &Client{
		cfg:    cfg,
		signer: signer,
		verifier: verifier{signType: cfg.SignType, md5Key: cfg.MD5Key,
			pub: cfg.AlipayPublicKey, charset: cfg.Charset},
		endpoint: ep,
		hc:       &http.Client{CheckRedirect: noRedirect},
		now:      time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// noRedirect makes a redirect answer an HTTPStatusError (Unknown) instead
// of silently re-sending the request elsewhere as a GET.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// call is one gateway request.
type call struct {
	service   string
	params    map[string]string
	transID   string
	refundID  string
	buyerCode string
}

// finish classifies a call, reports it to the trace hook and returns the
// outcome.
func (c *Client) finish(k call, start time.Time, d Detail, err error) Outcome {
	out := Classify(k.service, d, err)
	if c.trace != nil {
		c.trace(TraceEvent{
			Service: k.service, PartnerTransID: k.transID, PartnerRefundID: k.refundID,
			BuyerCode: MaskCode(k.buyerCode), Outcome: out, HTTPStatus: d.HTTPStatus,
			ResultCode: d.ResultCode, ErrorCode: d.ErrorCode(), Duration: time.Since(start), Err: err,
		})
	}
	return out
}

// exchange signs and sends k and reads, parses and verifies the answer.
func (c *Client) exchange(ctx context.Context, k call) (Detail, error) {
	body, err := c.encode(k)
	if err != nil {
		return Detail{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(body))
	if err != nil {
		return Detail{}, &TransportError{Op: "send", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset="+c.cfg.Charset)
	resp, err := c.hc.Do(req)
	if err != nil {
		return Detail{}, transportErr(ctx, "send", err)
	}
	defer resp.Body.Close()
	d := Detail{HTTPStatus: resp.StatusCode}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return d, transportErr(ctx, "read", err)
	}
	if resp.StatusCode != http.StatusOK {
		return d, &HTTPStatusError{StatusCode: resp.StatusCode}
	}
	if len(raw) > MaxResponseBytes {
		return d, fmt.Errorf("alipay: %s: %w (over %d bytes)", k.service, ErrBodyTooLarge, MaxResponseBytes)
	}
	return c.readAnswer(d, raw)
}

// encode adds the common parameters to k, signs them and renders the form
// body. _input_charset is signed but travels in the URL only (reference
// §2.2, [C2]).
func (c *Client) encode(k call) (string, error) {
	p := k.params
	p["service"] = k.service
	p["partner"] = c.cfg.Partner
	p["_input_charset"] = c.cfg.Charset
	if err := checkParams(p); err != nil {
		return "", err
	}
	presign, err := EncodeCharset(PreSignString(p), c.cfg.Charset)
	if err != nil {
		return "", &InvalidRequestError{Field: "params", Reason: "not encodable in " + c.cfg.Charset}
	}
	sig, err := c.signer.Sign(presign)
	if err != nil {
		return "", fmt.Errorf("alipay: %s: %w", k.service, err)
	}
	form := make(map[string]string, len(p)+1)
	for key, v := range p {
		form[key] = v
	}
	delete(form, "_input_charset")
	form["sign_type"] = string(c.signer.Type())
	form["sign"] = sig
	return encodeForm(form, c.cfg.Charset)
}

// readAnswer parses and verifies a 200 answer body into d.
func (c *Client) readAnswer(d Detail, raw []byte) (Detail, error) {
	env, err := parseEnvelope(raw)
	if err != nil {
		return d, err
	}
	d.IsSuccess = env.isSuccess
	if env.isSuccess == "F" {
		d.GatewayError = env.gwError
		return d, &GatewayError{Code: env.gwError}
	}
	if env.fields == nil {
		return d, malformed("is_success=T without <response><alipay>", nil)
	}
	d.Fields = redactFields(env.fields)
	d.ResultCode = env.fields["result_code"]
	d.Error = env.fields["error"]
	d.DetailErrorCode = env.fields["detail_error_code"]
	d.RetryFlag = env.fields["retry_flag"]
	if err := c.verifier.verify(env.fields, env.signType, env.sign, env.encoding); err != nil {
		return d, err
	}
	d.Verified = true
	return d, nil
}

// redactFields copies fields, masking a buyer_identity_code should the
// gateway ever echo one inside response/alipay.
func redactFields(f map[string]string) map[string]string {
	out := make(map[string]string, len(f))
	for k, v := range f {
		if k == "buyer_identity_code" {
			v = MaskCode(v)
		}
		out[k] = v
	}
	return out
}

// transportErr wraps a send/read failure, marking timeouts.
func transportErr(ctx context.Context, op string, err error) error {
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		timeout = true
	}
	return &TransportError{Op: op, Timeout: timeout, Err: err}
}
