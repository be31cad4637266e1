package daemon_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// docKey is the shared key of the example's remote listener.
const docKey = "till-key-0123456789"

// TestProtocolDocExamples runs every example exchange of
// docs/ecr-protocol.md section 9 against the real daemon on the sandbox
// gateway and fails when the document differs from what the daemon sent
// (volatile values normalised). With TILLBRIDGE_UPDATE_DOCS=1 it rewrites
// the block instead.
func TestProtocolDocExamples(t *testing.T) {
	keyed := make(chan string, 1)
	e := startEnv(t, daemonenv.Lanes(8), daemonenv.WithDaemon(func(o *daemon.Options) {
		plain, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		remote, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		keyed <- remote.Addr().String()
		o.Listeners = []net.Listener{plain, ecrproto.RequireKey(remote, docKey)}
	}))
	rec := &docRecorder{t: t}
	framed := framedPing(t, e.ECR)
	docBasics(t, rec, e.ECR, <-keyed)
	docSales(t, rec, e.ECR)
	docWaiting(t, rec, e.ECR)
	docAfterSale(t, rec, e.ECR)
	docErrors(t, rec, e.ECR)
	st := startEnv(t, daemonenv.Lanes(1), withScanTimeout(docScanTimeout))
	docScanTimeoutExchange(t, rec, st.ECR)
	checkDoc(t, renderDoc(t, rec.list, framed))
}

// docScanTimeout is the scan timeout of the scan-timeout example; the
// other examples keep the tests' long one.
const docScanTimeout = 300 * time.Millisecond

// withScanTimeout sets how long a lane waits for the customer's code.
func withScanTimeout(d time.Duration) daemonenv.Option {
	return daemonenv.WithSandbox(func(o *daemon.SandboxOptions) { o.Payment.ScanTimeout = d })
}

// framedPing runs PING on a framed connection and returns every write of
// both sides, byte for byte.
func framedPing(t *testing.T, addr string) []docWire {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ping, _ := ecrproto.EncodeFrame(&ecrproto.Message{Type: "PING", ID: "10"})
	c.SetDeadline(time.Now().Add(testBound))
	if _, err := c.Write(ping); err != nil {
		t.Fatal(err)
	}
	wire := []docWire{{sent: true, bytes: ping}}
	buf := make([]byte, 0, 256)
	for !(len(buf) > 3 && buf[len(buf)-2] == 0x03) {
		b := make([]byte, 256)
		n, err := c.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, b[:n]...)
	}
	if buf[0] != ecrproto.ACK {
		t.Fatalf("the daemon's first byte is %#x, want ACK", buf[0])
	}
	wire = append(wire, docWire{bytes: buf[:1]}, docWire{bytes: buf[1:]})
	if _, err := c.Write([]byte{ecrproto.ACK}); err != nil {
		t.Fatal(err)
	}
	return append(wire, docWire{sent: true, bytes: []byte{ecrproto.ACK}})
}

func docBasics(t *testing.T, rec *docRecorder, addr, keyedAddr string) {
	p := dialDocPeer(t, rec, addr, "ECR")
	rec.beginFramed("HELLO (local)", "Optional on a local connection.")
	p.send(`{"type":"HELLO","id":"1","version":"1"}`)
	p.final("1")
	rec.begin("PING", "")
	p.send(`{"type":"PING","id":"10"}`)
	p.final("10")
	rec.begin("HELLO (remote, with the shared key)", "The first message on a remote listener (section 1).")
	r := dialDocPeer(t, rec, keyedAddr, "ECR")
	r.send(`{"type":"HELLO","id":"1","version":"1","key":"` + docKey + `"}`)
	r.final("1")
	rec.begin("E_AUTH", "Anything but HELLO with the right key first on a remote listener; the connection is closed.")
	r2 := dialDocPeer(t, rec, keyedAddr, "ECR")
	r2.send(`{"type":"PING","id":"1"}`)
	r2.final("1")
	r2.closed()
	rec.begin("DEVICES", "")
	p.send(`{"type":"DEVICES","id":"9","lane":"1"}`)
	p.final("9")
}

func docSales(t *testing.T, rec *docRecorder, addr string) {
	p := dialDocPeer(t, rec, addr, "ECR")
	rec.begin("SALE with the customer's code: APPROVED", "")
	p.send(`{"type":"SALE","id":"2","lane":"1","ref":"R000123","amount":1250,"currency":"HKD","subject":"Zoo ticket x1","barcode":"` + code(0, 123) + `"}`)
	wantStatus(t, p.final("2"), ecrproto.StatusApproved)
	rec.beginFramed("SALE DECLINED", "")
	p.send(`{"type":"SALE","id":"2","lane":"2","ref":"R000124","amount":1250,"currency":"HKD","barcode":"` + code(20, 124) + `"}`)
	wantStatus(t, p.final("2"), ecrproto.StatusDeclined)
	rec.begin("SALE with an unknown outcome, then APPROVED",
		"Alipay's answer to the payment was lost; the daemon asks Alipay until it knows.")
	p.send(`{"type":"SALE","id":"2","lane":"3","ref":"R000125","amount":1250,"currency":"HKD","barcode":"` + code(31, 125) + `"}`)
	wantStatus(t, p.final("2"), ecrproto.StatusApproved)
	rec.begin("SALE the customer confirms on the phone", "")
	p.send(`{"type":"SALE","id":"2","lane":"4","ref":"R000126","amount":1250,"currency":"HKD","barcode":"` + code(10, 126) + `"}`)
	wantStatus(t, p.final("2"), ecrproto.StatusApproved)
	rec.begin("SALE not confirmed by the pay deadline: CANCELLED, and STATUS PENDING meanwhile",
		"While the sale runs, STATUS on the same connection answers PENDING.")
	p.send(`{"type":"SALE","id":"2","lane":"5","ref":"R000127","amount":1250,"currency":"HKD","barcode":"` + code(11, 127) + `"}`)
	p.until(func(m *ecrproto.Message) bool { return m.Event == ecrproto.EventWaitBuyerConfirm })
	p.send(`{"type":"STATUS","id":"3","lane":"5","ref":"R000127"}`)
	got := p.finals("3", "2")
	wantStatus(t, got[0], ecrproto.StatusPending)
	wantStatus(t, got[1], ecrproto.StatusCancelled)
}

func docWaiting(t *testing.T, rec *docRecorder, addr string) {
	ecr := dialDocPeer(t, rec, addr, "ECR")
	pos := dialDocPeer(t, rec, addr, "EFT-POS")
	rec.beginFramed("SALE waiting for a scan; the code comes in a SCAN",
		"The EFT POS device sends SCAN on its own connection; the SALE continues on the ECR's.")
	ecr.send(`{"type":"SALE","id":"2","lane":"6","ref":"R000128","amount":1250,"currency":"HKD"}`)
	ecr.until(func(m *ecrproto.Message) bool { return m.Event == ecrproto.EventWaitScan })
	pos.send(`{"type":"SCAN","id":"6","lane":"6","barcode":"` + code(0, 128) + `"}`)
	pos.final("6")
	wantStatus(t, ecr.final("2"), ecrproto.StatusApproved)

	rec.begin("ABORT of a sale waiting for its code", "")
	ecr.send(`{"type":"SALE","id":"2","lane":"7","ref":"R000129","amount":1250,"currency":"HKD"}`)
	ecr.until(func(m *ecrproto.Message) bool { return m.Event == ecrproto.EventWaitScan })
	ecr.send(`{"type":"ABORT","id":"7","lane":"7","ref":"R000129"}`)
	wantStatus(t, ecr.finals("7", "2")[1], ecrproto.StatusDeclined)

	rec.begin("CANCEL of a sale waiting for its code",
		"Like ABORT: nothing was sent to Alipay, so the sale ends at once.")
	ecr.send(`{"type":"SALE","id":"2","lane":"8","ref":"R000130","amount":1250,"currency":"HKD"}`)
	ecr.until(func(m *ecrproto.Message) bool { return m.Event == ecrproto.EventWaitScan })
	ecr.send(`{"type":"CANCEL","id":"4","lane":"8","ref":"R000130"}`)
	ecr.finals("4", "2")
}

func docAfterSale(t *testing.T, rec *docRecorder, addr string) {
	p := dialDocPeer(t, rec, addr, "ECR")
	rec.begin("STATUS of a sale", "")
	p.send(`{"type":"STATUS","id":"3","lane":"1","ref":"R000123"}`)
	p.final("3")
	rec.begin("STATUS of the lane's last sale", "")
	p.send(`{"type":"STATUS","id":"3","lane":"2"}`)
	p.final("3")
	rec.begin("REFUND", "")
	p.send(`{"type":"REFUND","id":"5","lane":"1","ref":"R000123","refund_ref":"F000007","amount":500,"currency":"HKD"}`)
	p.final("5")
	rec.begin("STATUS of a refund (ref names the refund)", "")
	p.send(`{"type":"STATUS","id":"3","lane":"1","ref":"F000007"}`)
	p.final("3")
	rec.begin("CANCEL of an approved sale", "")
	p.send(`{"type":"CANCEL","id":"4","lane":"4","ref":"R000126"}`)
	p.final("4")
	rec.begin("PRINT text", "")
	p.send(`{"type":"PRINT","id":"8","lane":"1","receipt":"Thank you!\nSee you soon.\n"}`)
	p.final("8")
	rec.begin("PRINT a copy of a sale's receipt", "")
	p.send(`{"type":"PRINT","id":"8","lane":"3","ref":"R000125"}`)
	p.final("8")
}

func docErrors(t *testing.T, rec *docRecorder, addr string) {
	p := dialDocPeer(t, rec, addr, "ECR")
	rec.begin("E_FIELD", "")
	p.send(`{"type":"SALE","id":"2","lane":"1","ref":"R000131","amount":12.5,"currency":"HKD"}`)
	p.final("2")
	p.send(`{"type":"SALE","id":"2","lane":"1","ref":"R000131","amount":1250}`)
	p.final("2")
	rec.beginFramed("E_REF_CONFLICT", "A known ref with a different amount.")
	p.send(`{"type":"SALE","id":"2","lane":"1","ref":"R000123","amount":1300,"currency":"HKD","barcode":"` + code(0, 123) + `"}`)
	p.final("2")
	rec.begin("E_TYPE", "An unknown type, and an answer type sent by the ECR.")
	p.send(`{"type":"PAY","id":"2","lane":"1","ref":"R000123"}`)
	p.final("2")
	p.send(`{"type":"RESULT","id":"2","status":"OK"}`)
	p.final("2")
	rec.begin("E_NOT_FOUND", "")
	p.send(`{"type":"STATUS","id":"3","lane":"1","ref":"R999999"}`)
	p.final("3")
	p.send(`{"type":"SCAN","id":"6","lane":"1","barcode":"` + code(0, 132) + `"}`)
	p.final("6")
	p.send(`{"type":"STATUS","id":"3","lane":"99"}`)
	p.final("3")
	rec.beginFramed("E_LANE_BUSY and an id in use",
		"While a sale waits on lane 2: a SALE with another ref on the lane, and a request reusing the running SALE's id.")
	p.send(`{"type":"SALE","id":"2","lane":"2","ref":"R000133","amount":1250,"currency":"HKD"}`)
	p.until(func(m *ecrproto.Message) bool { return m.Event == ecrproto.EventWaitScan })
	p.send(`{"type":"SALE","id":"11","lane":"2","ref":"R000134","amount":800,"currency":"HKD"}`)
	p.final("11")
	p.send(`{"type":"STATUS","id":"2","lane":"2","ref":"R000133"}`)
	p.until(func(m *ecrproto.Message) bool { return m.Type == ecrproto.TypeError && m.DupID == "2" })
	p.send(`{"type":"ABORT","id":"12","lane":"2"}`)
	p.finals("12", "2")
	rec.begin("E_TOO_LARGE", "After a valid request the connection stays open.")
	big := `{"type":"PRINT","id":"8","lane":"1","receipt":"` + strings.Repeat("x", ecrproto.DefaultMaxMessageSize) + `"}`
	p.sendShown(big, `{"type":"PRINT","id":"8","lane":"1","receipt":"xxxx…"} (over 64 KiB)`)
	p.final("")
	rec.begin("E_FORMAT", "Undecodable input as the first message: answered without echo, and the connection is closed.")
	f := dialDocPeer(t, rec, addr, "ECR")
	f.send(`{"type":"PING","id":"1"`)
	f.final("")
	f.closed()
}

func docScanTimeoutExchange(t *testing.T, rec *docRecorder, addr string) {
	p := dialDocPeer(t, rec, addr, "ECR")
	rec.begin("SALE with no code by the scan timeout",
		"Recorded with a scan timeout of 300 ms (the default is 120 s): the sale is voided, nothing was sent to Alipay.")
	p.send(`{"type":"SALE","id":"2","lane":"1","ref":"R000135","amount":1250,"currency":"HKD"}`)
	wantStatus(t, p.final("2"), ecrproto.StatusDeclined)
}

func wantStatus(t *testing.T, m *ecrproto.Message, status string) {
	t.Helper()
	if m.Type != ecrproto.TypeResult || m.Status != status {
		t.Fatalf("got %s %s %s (%s), want RESULT %s", m.Type, m.Status, m.Code, m.Message, status)
	}
}
