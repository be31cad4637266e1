package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// BenchmarkSaleVsGateway measures the ECR round trip SALE→RESULT through
// the daemon (JSON lines over loopback TCP, two journal commits with FULL sync,
// receipt rendered and written to the lane's file printer) against the
// bare gateway call (alipay.Client.Pay) to the same in-process sandbox, in
// the same run, alternating one of each per iteration. It reports the
// medians and 99th percentiles of both, their ratios, and the daemon's
// overhead at p99 in milliseconds.
//
//	go test -run '^$' -bench SaleVsGateway -benchtime 400x ./daemon/
func BenchmarkSaleVsGateway(b *testing.B) {
	e := startEnv(b, daemonenv.Lanes(1))
	key, err := os.ReadFile(filepath.Join(e.Dir, daemon.SandboxKeyFile))
	if err != nil {
		b.Fatal(err)
	}
	gw, err := alipay.NewClient(alipay.Config{GatewayURL: e.Sandbox.URL + "/gateway.do", Partner: daemon.SandboxPartner,
		SignType: alipay.SignMD5, MD5Key: strings.TrimSpace(string(key)), Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	c, _ := e.Dial(enc(false))
	defer c.Close()
	f, err := os.Create(filepath.Join(e.Dir, "fsync-probe"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	sale := make([]time.Duration, 0, b.N)
	bare := make([]time.Duration, 0, b.N)
	syncs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		pr, err := gw.Pay(ctx, alipay.PayRequest{PartnerTransID: fmt.Sprintf("BARE%d", i), BuyerCode: code(0, 2*i),
			Amount: 100, Currency: "HKD", TransName: "Tickets"})
		bare = append(bare, time.Since(t0))
		if err != nil || pr.Outcome != alipay.OutcomeSuccess {
			b.Fatalf("bare pay: %v %v", pr.Outcome, err)
		}
		t1 := time.Now()
		res, err := c.Do(ctx, saleMsg("1", fmt.Sprintf("B%d", i), 100, code(0, 2*i+1)))
		sale = append(sale, time.Since(t1))
		if err != nil || res.Status != ecrproto.StatusApproved {
			b.Fatalf("sale: %+v %v", res, err)
		}
		syncs = append(syncs, probeFsync(b, f))
	}
	b.StopTimer()
	report(b, sale, bare)
	f50 := pct(syncs, 50)
	b.ReportMetric(float64(f50)/float64(time.Millisecond), "fsync-p50-ms")
	// A sale with its code commits two journal transactions before its
	// RESULT (recorded with its pay attempt; the answer), each one fsync in
	// FULL mode.
	extra := pct(sale, 50) - pct(bare, 50) - 2*f50
	b.ReportMetric(float64(extra)/float64(time.Millisecond), "overhead-p50-beyond-2-fsyncs-ms")
}

// probeFsync times one small append and fsync in the data directory: the
// unit cost of a durable journal commit on this disk.
func probeFsync(b *testing.B, f *os.File) time.Duration {
	t0 := time.Now()
	if _, err := f.Write(make([]byte, 128)); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

func report(b *testing.B, sale, bare []time.Duration) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	s50, s99 := pct(sale, 50), pct(sale, 99)
	g50, g99 := pct(bare, 50), pct(bare, 99)
	b.ReportMetric(ms(s50), "sale-p50-ms")
	b.ReportMetric(ms(s99), "sale-p99-ms")
	b.ReportMetric(ms(g50), "gateway-p50-ms")
	b.ReportMetric(ms(g99), "gateway-p99-ms")
	b.ReportMetric(float64(s50)/float64(g50), "ratio-p50")
	b.ReportMetric(float64(s99)/float64(g99), "ratio-p99")
	b.ReportMetric(ms(s99-g99), "overhead-p99-ms")
}

// pct returns the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}
