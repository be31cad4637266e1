package sandbox

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/tillbridge/tillbridge/alipay"
)

// Gateway-level error codes, answered with is_success=F and no signature.
const (
	ErrIllegalPartner  = "ILLEGAL_PARTNER"
	ErrIllegalSign     = "ILLEGAL_SIGN"
	ErrIllegalSignType = "ILLEGAL_SIGN_TYPE"
	ErrIllegalArgument = "ILLEGAL_ARGUMENT"
	// ErrIllegalService answers an unknown service. UNCONFIRMED: the
	// reference cannot tell whether Alipay says ILLEGAL_SERVICE or
	// ILLEGAL_EXTERFACE; the sandbox says ILLEGAL_SERVICE.
	ErrIllegalService = "ILLEGAL_SERVICE"
)

// The services the gateway implements (reference §1).
const (
	ServicePay    = "alipay.acquire.overseas.spot.pay"
	ServiceQuery  = "alipay.acquire.overseas.query"
	ServiceCancel = "alipay.acquire.cancel"
	ServiceRefund = "alipay.acquire.overseas.spot.refund"
)

// rejection is a gateway-level refusal of a request (is_success=F).
type rejection struct {
	code   string // one of the Err* codes
	reason string // for the log and the X-Sandbox-Reason header
}

// Error implements error.
func (e *rejection) Error() string { return e.code + ": " + e.reason }

func reject(code, format string, args ...any) *rejection {
	return &rejection{code: code, reason: fmt.Sprintf(format, args...)}
}

// gatewayRequest is a parsed, verified gateway request.
type gatewayRequest struct {
	params   map[string]string // UTF-8 values; empty ones dropped
	charset  string
	service  string
	signType alipay.SignType
}

// get returns a parameter ("" when absent).
func (g *gatewayRequest) get(name string) string { return g.params[name] }

// require fails with ILLEGAL_ARGUMENT when a named parameter is absent.
func (g *gatewayRequest) require(names ...string) *rejection {
	for _, n := range names {
		if g.params[n] == "" {
			return reject(ErrIllegalArgument, "missing parameter %s", n)
		}
	}
	return nil
}

// readRequest reads and decodes the parameters of r: the query string
// and, for POST, the form body, within the size cap.
func (s *Server) readRequest(r *http.Request) (*gatewayRequest, *rejection) {
	max := s.cfg.MaxRequestBytes
	if int64(len(r.URL.RawQuery)) > max {
		return nil, reject(ErrIllegalArgument, "request over %d bytes", max)
	}
	var body []byte
	if r.Method == http.MethodPost && r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, max-int64(len(r.URL.RawQuery))+1))
		if err != nil {
			return nil, reject(ErrIllegalArgument, "read body: %v", err)
		}
		if int64(len(b)+len(r.URL.RawQuery)) > max {
			return nil, reject(ErrIllegalArgument, "request over %d bytes", max)
		}
		body = b
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, reject(ErrIllegalArgument, "query string: %v", err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, reject(ErrIllegalArgument, "form body: %v", err)
	}
	return decodeParams(query, form)
}

// decodeParams merges the query string and the body (a parameter present
// in both must carry the same value) and decodes every value from the
// charset named by _input_charset, read from the query string first.
func decodeParams(query, form url.Values) (*gatewayRequest, *rejection) {
	charset := query.Get("_input_charset")
	if charset == "" {
		charset = form.Get("_input_charset")
	}
	if charset == "" {
		charset = alipay.CharsetUTF8 // UNCONFIRMED default; HK pages say GBK
	}
	if _, err := alipay.DecodeCharset(nil, charset); err != nil {
		return nil, reject(ErrIllegalArgument, "_input_charset %q not supported", charset)
	}
	raw := make(map[string]string)
	for _, vals := range []url.Values{query, form} {
		for name, vs := range vals {
			for _, v := range vs {
				if old, ok := raw[name]; ok && old != v {
					return nil, reject(ErrIllegalArgument, "parameter %q given twice with different values", name)
				}
				raw[name] = v
			}
		}
	}
	g := &gatewayRequest{params: make(map[string]string, len(raw)), charset: charset}
	for name, v := range raw {
		dn, err1 := alipay.DecodeCharset([]byte(name), charset)
		dv, err2 := alipay.DecodeCharset([]byte(v), charset)
		if err1 != nil || err2 != nil {
			return nil, reject(ErrIllegalArgument, "parameter %q is not valid %s", name, charset)
		}
		if dv != "" {
			g.params[dn] = dv
		}
	}
	return g, nil
}

// authenticate checks partner, service, sign type and signature, in that
// order, and returns the first failure.
func (s *Server) authenticate(g *gatewayRequest) *rejection {
	p := g.get("partner")
	if !partnerPattern.MatchString(p) {
		return reject(ErrIllegalPartner, "partner %q is not 16 digits starting with 2088", p)
	}
	if p != s.cfg.Partner {
		return reject(ErrIllegalPartner, "partner %q is not the configured partner", p)
	}
	g.service = g.get("service")
	if _, ok := s.services()[g.service]; !ok {
		return reject(ErrIllegalService, "unknown service %q", g.service)
	}
	st, err := alipay.ParseSignType(g.get("sign_type"))
	signer, enabled := s.signers[st]
	if err != nil || !enabled {
		return reject(ErrIllegalSignType, "sign_type %q not accepted", g.get("sign_type"))
	}
	g.signType = st
	sig := g.get("sign")
	if sig == "" {
		return reject(ErrIllegalSign, "missing sign")
	}
	presign, err := alipay.EncodeCharset(alipay.PreSignString(g.params), g.charset)
	if err != nil {
		return reject(ErrIllegalArgument, "pre-sign string: %v", err)
	}
	if err := signer.Verify(presign, sig); err != nil {
		return reject(ErrIllegalSign, "signature does not verify")
	}
	return nil
}
