package console_test

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// updateDocs copies the screenshots into docs/console/ for docs/console.md:
// go test ./console/ -run ConsoleBrowser -update-docs
var updateDocs = flag.Bool("update-docs", false, "copy the browser test's screenshots into docs/console/")

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// needChromium returns the browser, installing Debian's package with
// scripts/need.sh when it is missing; the test is skipped, saying why,
// only when it cannot be installed.
func needChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	out, err := exec.Command("../scripts/need.sh", "chromium:"+chromiumPath).CombinedOutput()
	if _, serr := os.Stat(chromiumPath); serr != nil {
		t.Skipf("browser tests need Chromium (%s), which could not be installed: %v\n%s", chromiumPath, err, out)
	}
	return chromiumPath
}

// artifacts is the folder for screenshots: $TILLBRIDGE_ARTIFACTS or a
// temporary folder.
func artifacts(t *testing.T) string {
	dir := os.Getenv("TILLBRIDGE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// headless starts Chromium at the size of a small till screen (800x480)
// and returns a browser context bounded by bound.
func headless(t *testing.T) context.Context {
	exe := needChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(800, 480))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	ctx, cancel := context.WithTimeout(bctx, 3*bound)
	t.Cleanup(cancel)
	return ctx
}

// shooter saves screenshots.
type shooter struct {
	t     *testing.T
	ctx   context.Context
	dir   string
	names []string
}

// shot saves the visible 800x480 screen as NAME.png.
func (s *shooter) shot(name string) {
	s.t.Helper()
	png, err := chromedp.Run(s.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.names = append(s.names, name)
}

// copyToDocs copies the screenshots into docs/console/.
func (s *shooter) copyToDocs() {
	docs := filepath.Join("..", "docs", "console")
	if err := os.MkdirAll(docs, 0o755); err != nil {
		s.t.Fatal(err)
	}
	for _, n := range s.names {
		b, err := os.ReadFile(filepath.Join(s.dir, n+".png"))
		if err == nil {
			err = os.WriteFile(filepath.Join(docs, n+".png"), b, 0o644)
		}
		if err != nil {
			s.t.Fatal(err)
		}
	}
}

// do runs browser steps, failing the test with what was being done.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancelStep := context.WithTimeout(ctx, 30*time.Second)
	defer cancelStep()
	if err := chromedp.Do(sctx, steps...); err != nil {
		// Show where the browser was: its address and page.
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(qctx, chromedp.Location())
		html, _ := chromedp.Run(qctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		t.Fatalf("browser: %s: %v\nat %s:\n%s", what, err, loc, html)
	}
}

// text reads an element's text.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("browser: text of %s: %v", css, err)
	}
	return s
}

// TestConsoleBrowser drives the real console in headless Chromium against
// a real daemon on the sandbox: login by the one-time link, a sale seen
// live, a MANUAL operation resolved, a print test, a receipt preview and a
// gateway check, with screenshots of each.
func TestConsoleBrowser(t *testing.T) {
	e := startEnv(t, manualConfig)
	manualID := e.manualSale("2", "STUCK-7")
	ctx := headless(t)
	sh := &shooter{t: t, ctx: ctx, dir: artifacts(t)}

	// The browser's console must stay quiet: a CSP violation or a script
	// error shows there.
	var (
		mu   sync.Mutex
		logs []string
	)
	cctx, stopConsole := context.WithCancel(ctx)
	msgs := chromedp.Console(cctx)
	var listening sync.WaitGroup
	listening.Add(1)
	go func() {
		defer listening.Done()
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			logs = append(logs, string(m.Type)+": "+m.Text)
			mu.Unlock()
		}
	}()

	// Log in with the one-time link: it lands on the health page.
	do(t, ctx, "login", chromedp.EmulateViewport(800, 480), chromedp.Navigate(e.login().URL), chromedp.WaitVisible(chromedp.CSS("#verdict")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(loc, "token") {
		t.Errorf("the token stays in the address bar: %s", loc)
	}
	if v := text(t, ctx, "#verdict"); !strings.Contains(v, "UNHEALTHY") {
		t.Errorf("health verdict %q: a MANUAL operation makes the daemon unhealthy, as tillbridge status says", v)
	}
	sh.shot("health")

	// A sale appears live on the lanes page (SSE), from WAIT_SCAN to paid.
	do(t, ctx, "lanes page", chromedp.Navigate(e.base+"/lanes"),
		chromedp.Poll[chromedp.Void](`document.getElementById("live-state").textContent === "live"`))
	saleDone := make(chan string, 1)
	go func() {
		res := e.sale("1", "LIVE-1", sandboxCode(10, 99))
		saleDone <- res.Status
	}()
	do(t, ctx, "the sale seen live",
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("#events li")].some(li => li.textContent.includes("LIVE-1") && li.dataset.state === "paid")`))
	if st := <-saleDone; st != "APPROVED" {
		t.Fatalf("sale LIVE-1: %s", st)
	}
	if last := text(t, ctx, "#lane-1 .lane-last"); !strings.Contains(last, "LIVE-1") || !strings.Contains(last, "paid") {
		t.Errorf("lane 1's last operation %q: not updated live", last)
	}
	if now := text(t, ctx, "#lane-1 .lane-now"); now != "idle" {
		t.Errorf("lane 1 after the paid sale: %q, want idle", now)
	}
	sh.shot("lanes-live")

	// The MANUAL operation is on the queue page and resolved there.
	do(t, ctx, "queue page", chromedp.Navigate(e.base+"/queue"), chromedp.WaitVisible(chromedp.CSS(`a[href="/queue/`+manualID+`"]`)))
	sh.shot("queue-manual")
	do(t, ctx, "resolve form", chromedp.Navigate(e.base+"/queue/"+manualID), chromedp.WaitVisible(chromedp.CSS("#resolve")),
		chromedp.SetValue(chromedp.CSS("#resolve-state"), "cancelled"),
		chromedp.SendKeys(chromedp.CSS("#resolve-reason"), "merchant portal: trade closed"),
		chromedp.SendKeys(chromedp.CSS("#resolve-operator"), "Ann"))
	sh.shot("resolve")
	do(t, ctx, "resolve click", chromedp.Click(chromedp.CSS("#resolve-submit")))
	do(t, ctx, "resolved", chromedp.WaitVisible(chromedp.CSS("#resolved")))
	if st := text(t, ctx, "#op-state"); st != "cancelled" {
		t.Errorf("after resolving: state %q, want cancelled", st)
	}
	sh.shot("resolved")
	d, err := e.ctl.Operation(e.ctx(), manualID)
	if err != nil || d.Op.State != "cancelled" {
		t.Errorf("the journal says %s (%v), want cancelled", d.Op.State, err)
	}

	// A print test from the devices page prints on lane 1's printer.
	receipts := filepath.Join(e.dir, "receipts", "lane-1.escpos")
	before := fileSize(receipts)
	do(t, ctx, "print test", chromedp.Navigate(e.base+"/devices"), chromedp.WaitVisible(chromedp.CSS("#print-test-1")))
	sh.shot("devices")
	do(t, ctx, "print test result", chromedp.Click(chromedp.CSS("#print-test-1")), chromedp.WaitVisible(chromedp.CSS("#test-result")))
	if r := text(t, ctx, "#test-result"); !strings.Contains(r, "test page printed") {
		t.Errorf("print test: %q", r)
	}
	if after := fileSize(receipts); after <= before {
		t.Errorf("the print test printed nothing: %s has %d bytes, had %d", receipts, after, before)
	}
	sh.shot("print-test")

	// The receipt preview is the PNG the lane's printer layout gives.
	do(t, ctx, "receipt", chromedp.Navigate(e.base+"/receipt?lane=1&ref=LIVE-1"),
		chromedp.Poll[chromedp.Void](`(() => { const i = document.getElementById("receipt-img"); return i && i.complete && i.naturalWidth > 0; })()`))
	sh.shot("receipt")

	// The gateway check proves the sandbox's keys.
	do(t, ctx, "gateway check", chromedp.Navigate(e.base+"/gateway"), chromedp.Click(chromedp.CSS("#gateway-check")),
		chromedp.WaitVisible(chromedp.CSS("#gateway-verdict")))
	if v := text(t, ctx, "#gateway-verdict"); !strings.HasPrefix(v, "ok") {
		t.Errorf("gateway check: %q", v)
	}
	sh.shot("gateway")

	// Back on health: the MANUAL item is gone from the verdict.
	do(t, ctx, "health again", chromedp.Navigate(e.base+"/"), chromedp.WaitVisible(chromedp.CSS("#verdict")))
	if v := text(t, ctx, "#verdict"); !strings.Contains(v, "HEALTHY") || strings.Contains(v, "UNHEALTHY") {
		t.Errorf("health after the resolution and the gateway check: %q", v)
	}

	stopConsole()
	listening.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, l := range logs {
		if strings.Contains(l, "Content Security Policy") || strings.HasPrefix(l, "exception") || strings.HasPrefix(l, "error") {
			t.Errorf("browser console: %s", l)
		}
	}
	if *updateDocs {
		sh.copyToDocs()
	}
	t.Logf("screenshots in %s", sh.dir)
}

// fileSize is a file's size, 0 when missing.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
