package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/daemon/logging"
)

// maxRecordedBody bounds what the recorder reads of one request or answer.
const maxRecordedBody = 1 << 20

// Exchange is one gateway call as it crossed the wire: the signed request
// parameters and the answer, with keys, signatures and buyer codes masked.
type Exchange struct {
	At       time.Time         `json:"at"`
	Took     time.Duration     `json:"took_ns"`
	Service  string            `json:"service"`
	Params   map[string]string `json:"params"`
	HTTP     int               `json:"http,omitempty"`
	Answer   string            `json:"answer,omitempty"`
	Result   string            `json:"result,omitempty"` // result_code / error / trade status summary
	Error    string            `json:"error,omitempty"`  // transport failure: no answer reached the daemon
	CodeLen  int               `json:"code_len,omitempty"`
	tradeIDs []string
}

// recorder is a loopback HTTP proxy in front of the gateway: the daemon's
// configured gateway URL points at it, so every request the daemon signs
// and every answer it verifies is recorded unchanged in transit.
type recorder struct {
	upstream *url.URL
	client   *http.Client
	srv      *http.Server
	ln       net.Listener

	mu    sync.Mutex
	calls []Exchange
}

// startRecorder listens on a loopback port and forwards to upstream.
func startRecorder(upstream string) (*recorder, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("gateway url: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("recorder listen: %w", err)
	}
	r := &recorder{upstream: u, ln: ln, client: &http.Client{
		Transport:     http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// URL is the gateway URL the daemon is given.
func (r *recorder) URL() string {
	u := *r.upstream
	u.Scheme, u.Host = "http", r.ln.Addr().String()
	return u.String()
}

// Close stops the proxy.
func (r *recorder) Close(ctx context.Context) error { return r.srv.Shutdown(ctx) }

// ServeHTTP forwards one gateway call and records it. An upstream failure
// closes the daemon's connection without an answer, as the network would.
func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	body, _ := io.ReadAll(io.LimitReader(req.Body, maxRecordedBody))
	ex := Exchange{At: start}
	params := url.Values{}
	if q, err := url.ParseQuery(req.URL.RawQuery); err == nil {
		params = q
	}
	if b, err := url.ParseQuery(string(body)); err == nil {
		for k, v := range b {
			params[k] = append(params[k], v...)
		}
	}
	code := params.Get("buyer_identity_code")
	ex.CodeLen = len(code)
	ex.Service, ex.Params = params.Get("service"), maskParams(params)
	for _, k := range []string{"partner_trans_id", "out_trade_no"} {
		if v := params.Get(k); v != "" {
			ex.tradeIDs = append(ex.tradeIDs, v)
		}
	}
	target := *r.upstream
	target.RawQuery = req.URL.RawQuery
	out, err := http.NewRequestWithContext(req.Context(), req.Method, target.String(), bytes.NewReader(body))
	if err == nil {
		out.Header = req.Header.Clone()
		var resp *http.Response
		if resp, err = r.client.Do(out); err == nil {
			ans, rerr := io.ReadAll(io.LimitReader(resp.Body, maxRecordedBody))
			resp.Body.Close()
			err = rerr
			if err == nil {
				ex.HTTP, ex.Answer = resp.StatusCode, maskAnswer(string(ans), code)
				ex.Result = summarize(string(ans))
				for _, h := range []string{"Content-Type", "Date", "X-Sandbox-Reason"} {
					if v := resp.Header.Get(h); v != "" {
						w.Header().Set(h, v)
					}
				}
				w.WriteHeader(resp.StatusCode)
				_, _ = w.Write(ans)
			}
		}
	}
	if err != nil {
		ex.Error = "no answer: " + errText(err)
		hangUp(w)
	}
	ex.Took = time.Since(start)
	r.mu.Lock()
	r.calls = append(r.calls, ex)
	r.mu.Unlock()
}

// hangUp closes the daemon's connection without a byte.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// For returns the recorded calls about any of the trade ids, in order.
func (r *recorder) For(ids map[string]bool) []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Exchange
	for _, ex := range r.calls {
		for _, id := range ex.tradeIDs {
			if ids[id] {
				out = append(out, ex)
				break
			}
		}
	}
	return out
}

// All returns every recorded call.
func (r *recorder) All() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.calls...)
}

// maskParams flattens the parameters, masking the signature and the
// buyer's code; keys never travel, so there is nothing else to hide.
func maskParams(v url.Values) map[string]string {
	out := make(map[string]string, len(v))
	for k, vs := range v {
		val := strings.Join(vs, ",")
		switch k {
		case "sign":
			val = maskSign(val)
		case "buyer_identity_code":
			val = logging.MaskCode(val)
		}
		out[k] = val
	}
	return out
}

// maskSign keeps a signature's length and first 4 characters only.
func maskSign(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return s[:4] + "…(" + fmt.Sprint(len(s)) + " chars masked)"
}

var (
	signElem  = regexp.MustCompile(`(?s)<sign>([^<]*)</sign>`)
	codeParam = regexp.MustCompile(`(?s)(<param name="buyer_identity_code">)([^<]*)(</param>)`)
	signParam = regexp.MustCompile(`(?s)(<param name="sign">)([^<]*)(</param>)`)
	xmlField  = regexp.MustCompile(`<(result_code|error|alipay_trans_status|is_success)>([^<]*)</`)
)

// maskAnswer masks the answer's signature, the echoed request signature
// and any copy of the buyer's code.
func maskAnswer(ans, code string) string {
	ans = signElem.ReplaceAllStringFunc(ans, func(m string) string {
		return "<sign>" + maskSign(signElem.FindStringSubmatch(m)[1]) + "</sign>"
	})
	ans = codeParam.ReplaceAllStringFunc(ans, func(m string) string {
		p := codeParam.FindStringSubmatch(m)
		return p[1] + logging.MaskCode(p[2]) + p[3]
	})
	ans = signParam.ReplaceAllStringFunc(ans, func(m string) string {
		p := signParam.FindStringSubmatch(m)
		return p[1] + maskSign(p[2]) + p[3]
	})
	if len(code) >= 8 {
		ans = strings.ReplaceAll(ans, code, logging.MaskCode(code))
	}
	return ans
}

// summarize picks the answer's outcome fields, e.g. "T SUCCESS
// TRADE_SUCCESS" or "T UNKNOW SYSTEM_ERROR".
func summarize(ans string) string {
	found := map[string]string{}
	for _, m := range xmlField.FindAllStringSubmatch(ans, -1) {
		if _, ok := found[m[1]]; !ok {
			found[m[1]] = m[2]
		}
	}
	keys := []string{"is_success", "result_code", "alipay_trans_status", "error"}
	var parts []string
	for _, k := range keys {
		if v := found[k]; v != "" {
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 && len(found) > 0 {
		for k, v := range found {
			parts = append(parts, k+"="+v)
		}
		sort.Strings(parts)
	}
	return strings.Join(parts, " ")
}
