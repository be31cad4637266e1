package alipay

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testPartner = "2088101122136241"

// reply scripts one answer of the fake gateway.
type reply struct {
	status    int               // HTTP status, default 200
	raw       []byte            // written verbatim when set
	fields    map[string]string // response/alipay children (is_success=T)
	gwError   string            // is_success=F with this <error>
	failEnv   bool              // answer is_success=F
	badSign   bool              // corrupt the signature
	noSign    bool              // leave out <sign>/<sign_type>
	encoding  string            // declared encoding: "" (UTF-8) or "GBK"
	signInGBK bool              // sign the GBK bytes of the pre-sign string
	hang      bool              // never answer until the client gives up
	location  string            // Location header (redirects)
}

// seenRequest is what the fake gateway received.
type seenRequest struct {
	query  url.Values
	params map[string]string // decoded body + query, UTF-8
	sign   string
	err    error // signature/decoding problem
}

// fakeGateway is a scripted gateway on a loopback httptest server: it
// decodes and verifies each request and answers with the next reply.
type fakeGateway struct {
	t        *testing.T
	srv      *httptest.Server
	reqVerif Signer // verifies requests
	respSign Signer // signs answers
	answer   func(p map[string]string) reply

	mu   sync.Mutex
	seen []seenRequest
}

func newFakeGateway(t *testing.T, reqVerif, respSign Signer, answer func(p map[string]string) reply) *fakeGateway {
	g := &fakeGateway{t: t, reqVerif: reqVerif, respSign: respSign, answer: answer}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

// md5Gateway is a fake gateway sharing the MD5 key testMD5Key.
func md5Gateway(t *testing.T, answer func(p map[string]string) reply) *fakeGateway {
	s := NewMD5Signer(testMD5Key)
	return newFakeGateway(t, s, s, answer)
}

func (g *fakeGateway) requests() []seenRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]seenRequest(nil), g.seen...)
}

func (g *fakeGateway) serve(w http.ResponseWriter, r *http.Request) {
	req := g.decode(r)
	g.mu.Lock()
	g.seen = append(g.seen, req)
	g.mu.Unlock()
	rep := g.answer(req.params)
	if rep.hang {
		<-r.Context().Done()
		return
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	body := rep.raw
	if body == nil {
		body = g.envelope(rep)
	}
	w.Header().Set("Content-Type", "text/xml; charset="+orDefault(rep.encoding, "UTF-8"))
	if rep.location != "" {
		w.Header().Set("Location", rep.location)
	}
	w.WriteHeader(rep.status)
	w.Write(body)
}

// decode reads and verifies one request, like the real gateway.
func (g *fakeGateway) decode(r *http.Request) seenRequest {
	out := seenRequest{query: r.URL.Query(), params: map[string]string{}}
	raw, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		out.err = err
		return out
	}
	charset := orDefault(out.query.Get("_input_charset"), "UTF-8")
	for _, vals := range []url.Values{out.query, form} {
		for k, vs := range vals {
			v, err := DecodeCharset([]byte(vs[0]), charset)
			if err != nil || len(vs) != 1 {
				out.err = fmt.Errorf("param %s: %v (%d values)", k, err, len(vs))
			}
			out.params[k] = v
		}
	}
	out.sign = out.params["sign"]
	presign, err := EncodeCharset(PreSignString(out.params), charset)
	if err == nil {
		err = g.reqVerif.Verify(presign, out.sign)
	}
	if err != nil && out.err == nil {
		out.err = err
	}
	return out
}

// envelope renders a reply as gateway XML, signed like Alipay signs.
func (g *fakeGateway) envelope(rep reply) []byte {
	enc := orDefault(rep.encoding, "UTF-8")
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"%s\"?>\n<alipay>", enc)
	if rep.failEnv {
		fmt.Fprintf(&b, "<is_success>F</is_success><error>%s</error></alipay>", rep.gwError)
		return g.encodeBody(b.String(), enc)
	}
	b.WriteString("<is_success>T</is_success><request><param name=\"service\">x</param></request><response><alipay>")
	for _, k := range slices.Sorted(maps.Keys(rep.fields)) {
		fmt.Fprintf(&b, "<%s>%s</%s>", k, xmlEscape(rep.fields[k]), k)
	}
	b.WriteString("</alipay></response>")
	if !rep.noSign {
		sigCharset := "UTF-8"
		if rep.signInGBK {
			sigCharset = "GBK"
		}
		presign, err := EncodeCharset(PreSignString(rep.fields), sigCharset)
		if err != nil {
			g.t.Errorf("fake gateway: %v", err)
		}
		sig, err := g.respSign.Sign(presign)
		if err != nil {
			g.t.Errorf("fake gateway: %v", err)
		}
		if rep.badSign {
			sig = corrupt(sig)
		}
		fmt.Fprintf(&b, "<sign>%s</sign><sign_type>%s</sign_type>", sig, g.respSign.Type())
	}
	b.WriteString("</alipay>")
	return g.encodeBody(b.String(), enc)
}

func (g *fakeGateway) encodeBody(s, enc string) []byte {
	out, err := EncodeCharset(s, enc)
	if err != nil {
		g.t.Fatalf("fake gateway: encode body: %v", err)
	}
	return out
}

// corrupt flips the first character of a signature to another valid one.
func corrupt(sig string) string {
	c := byte('A')
	if sig[0] == 'A' {
		c = 'B'
	}
	return string(c) + sig[1:]
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// testClock is a fixed instant: 2024-01-01 12:00:00 in GMT+8.
func testClock() time.Time { return time.Date(2024, 1, 1, 12, 0, 0, 0, gmt8()) }

// md5Config is a valid MD5 configuration for gateway g.
func md5Config(g *fakeGateway) Config {
	return Config{
		GatewayURL: g.srv.URL + "/gateway.do", Partner: testPartner, SignType: SignMD5, MD5Key: testMD5Key,
		Extend: ExtendInfo{SecondaryMerchantID: "M001", SecondaryMerchantName: "Zoo Ticketing",
			SecondaryMerchantIndustry: "7991", StoreID: "S01", StoreName: "Main Gate", TerminalID: "T01"},
	}
}

func newTestClient(t *testing.T, cfg Config, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(cfg, append([]Option{WithClock(testClock)}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// rsaPair is a merchant key and an Alipay key for RSA tests.
type rsaPair struct{ merchant, alipay *rsa.PrivateKey }

func ctxT(t *testing.T) context.Context { return t.Context() }
