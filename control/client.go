package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/queue"
)

// clientHost is the placeholder host of control API URLs: the transport
// always dials the control socket or pipe.
const clientHost = "tillbridge-control"

// NotRunningError reports that no daemon answers on the control address:
// no socket or pipe, or a stale socket file.
type NotRunningError struct {
	Addr string
	Err  error
}

// Error says the daemon is not running and where it was looked for.
func (e *NotRunningError) Error() string {
	return fmt.Sprintf("tillbridge daemon is not running (no control socket at %s)", e.Addr)
}

// Unwrap returns the dial error.
func (e *NotRunningError) Unwrap() error { return e.Err }

// Client talks to a daemon's control API. It is safe for concurrent
// use.
type Client struct {
	addr string
	hc   *http.Client
}

// NewClient returns a client for the control socket or pipe at addr
// (see DefaultAddress; the daemon resolves its own with daemon.ControlAddress).
func NewClient(addr string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := dial(ctx, addr)
			if err != nil && isNoDaemon(err) {
				return nil, &NotRunningError{Addr: addr, Err: err}
			}
			return c, err
		},
		DisableCompression: true,
	}
	return &Client{addr: addr, hc: &http.Client{Transport: tr}}
}

// Addr is the control address the client dials.
func (c *Client) Addr() string { return c.addr }

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Status returns the daemon's status snapshot with its verdict.
func (c *Client) Status(ctx context.Context) (StatusSnapshot, error) {
	var s StatusSnapshot
	return s, c.call(ctx, http.MethodGet, "/v1/status", nil, nil, &s)
}

// Devices returns the daemon's devices report.
func (c *Client) Devices(ctx context.Context) (DevicesReport, error) {
	var r DevicesReport
	return r, c.call(ctx, http.MethodGet, "/v1/devices", nil, nil, &r)
}

// PrintTest prints a test page on lane's printer ("" for the only lane).
func (c *Client) PrintTest(ctx context.Context, lane string) (PrintTestResult, error) {
	var r PrintTestResult
	return r, c.call(ctx, http.MethodPost, "/v1/print-test", url.Values{"lane": {lane}}, nil, &r)
}

// ScanTest waits up to timeout for one scan on lane's scanner.
func (c *Client) ScanTest(ctx context.Context, lane string, timeout time.Duration) (ScanTestResult, error) {
	var r ScanTestResult
	q := url.Values{"lane": {lane}, "timeout": {timeout.String()}}
	return r, c.call(ctx, http.MethodPost, "/v1/scan-test", q, nil, &r)
}

// GatewayCheck runs a gateway check.
func (c *Client) GatewayCheck(ctx context.Context) (GatewayCheckResult, error) {
	var r GatewayCheckResult
	return r, c.call(ctx, http.MethodPost, "/v1/gateway-check", nil, nil, &r)
}

// QueueQuery selects operations for Queue. Zero fields select everything;
// States may hold "open".
type QueueQuery struct {
	States []string
	Lane   string
	Kind   queue.Kind
	Since  time.Time
	Until  time.Time
	Limit  int
}

func (q QueueQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("state", strings.Join(q.States, ","))
	set("lane", q.Lane)
	set("kind", string(q.Kind))
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", fmt.Sprint(q.Limit))
	}
	return v
}

// Queue lists journal operations, newest first.
func (c *Client) Queue(ctx context.Context, q QueueQuery) ([]OpView, error) {
	var ops []OpView
	return ops, c.call(ctx, http.MethodGet, "/v1/queue", q.values(), nil, &ops)
}

// Operation returns one operation with its events.
func (c *Client) Operation(ctx context.Context, id string) (OpDetail, error) {
	var d OpDetail
	return d, c.call(ctx, http.MethodGet, "/v1/queue/"+url.PathEscape(id), nil, nil, &d)
}

// Retry asks the engine to attempt the operation now.
func (c *Client) Retry(ctx context.Context, id string) (OpView, error) {
	var op OpView
	return op, c.call(ctx, http.MethodPost, "/v1/queue/"+url.PathEscape(id)+"/retry", nil, nil, &op)
}

// Resolve sets an operation's final state by hand (journaled with the
// reason and operator).
func (c *Client) Resolve(ctx context.Context, id string, r ResolveRequest) (OpView, error) {
	var op OpView
	return op, c.call(ctx, http.MethodPost, "/v1/queue/"+url.PathEscape(id)+"/resolve", nil, r, &op)
}

// ExportJournal streams the operations created in [from, to) to w, in
// format csv or json.
func (c *Client) ExportJournal(ctx context.Context, w io.Writer, from, to time.Time, format queue.ExportFormat) error {
	q := url.Values{"from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)},
		"format": {string(format)}}
	return c.stream(ctx, "/v1/journal/export", q, w)
}

// SupportBundle streams the support bundle (a zip) to w.
func (c *Client) SupportBundle(ctx context.Context, w io.Writer) error {
	return c.stream(ctx, "/v1/support-bundle", nil, w)
}

// call sends one request with an optional JSON body and decodes the JSON
// answer into out.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, body, out any) error {
	resp, err := c.do(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return &Error{Code: CodeBadAnswer, Message: "control API answer: " + err.Error()}
	}
	return nil
}

// stream copies a GET answer's body to w and checks the error trailer.
func (c *Client) stream(ctx context.Context, path string, q url.Values, w io.Writer) error {
	resp, err := c.do(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("control API stream: %w", err)
	}
	if msg := resp.Trailer.Get(trailerError); msg != "" {
		return &Error{Code: CodeInternal, Message: "the daemon stopped the stream: " + msg}
	}
	return nil
}

// do sends a request and turns an error answer into a *Error.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := url.URL{Scheme: "http", Host: clientHost, Path: path, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var nr *NotRunningError
		if errors.As(err, &nr) {
			return nil, nr
		}
		return nil, fmt.Errorf("control API at %s: %w", c.addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, answerError(resp)
	}
	return resp, nil
}

// answerError reads an error answer.
func answerError(resp *http.Response) error {
	ce := &Error{Status: resp.StatusCode}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err := json.Unmarshal(data, ce); err != nil || ce.Code == "" {
		return &Error{Status: resp.StatusCode, Code: CodeBadAnswer,
			Message: fmt.Sprintf("control API answered HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))}
	}
	return ce
}

// SaleReceipt returns the receipt of the journaled sale ref on lane ("" for
// the only lane).
func (c *Client) SaleReceipt(ctx context.Context, lane, ref string) (SaleReceipt, error) {
	var r SaleReceipt
	return r, c.call(ctx, http.MethodGet, "/v1/receipt", url.Values{"lane": {lane}, "ref": {ref}}, nil, &r)
}
