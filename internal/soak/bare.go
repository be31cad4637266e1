package soak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/daemon"
)

// bare sends pays straight to a spawned daemon's sandbox gateway, signed
// with the key the daemon keeps in its data directory: the baseline the
// daemon's throughput is compared with.
type bare struct {
	gw  *alipay.Client
	seq atomic.Int64
}

func newBare(tg *target) (*bare, error) {
	key, err := os.ReadFile(filepath.Join(tg.data, daemon.SandboxKeyFile))
	if err != nil {
		return nil, fmt.Errorf("bare gateway: %w", err)
	}
	gw, err := alipay.NewClient(alipay.Config{GatewayURL: tg.url + "/gateway.do", Partner: daemon.SandboxPartner,
		SignType: alipay.SignMD5, MD5Key: strings.TrimSpace(string(key)), Timeout: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("bare gateway: %w", err)
	}
	return &bare{gw: gw}, nil
}

// BareError reports a bare pay that did not succeed.
type BareError struct {
	// Outcome is the pay's classification.
	Outcome alipay.Outcome
	// Err is the client's explanation.
	Err error
}

// Error implements error.
func (e *BareError) Error() string { return fmt.Sprintf("bare pay: %v: %v", e.Outcome, e.Err) }

// Unwrap returns the cause.
func (e *BareError) Unwrap() error { return e.Err }

// run sends callers × each instant pays from callers goroutines and
// returns the elapsed time.
func (b *bare) run(ctx context.Context, callers, each int) (time.Duration, error) {
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	t0 := time.Now()
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := b.seq.Add(1)
				pr, err := b.gw.Pay(ctx, alipay.PayRequest{PartnerTransID: fmt.Sprintf("BARE-%d-%d-%d", c, i, n),
					BuyerCode: fmt.Sprintf("28%014d00", n), Amount: 100, Currency: "HKD", TransName: "bare"})
				if err != nil || pr.Outcome != alipay.OutcomeSuccess {
					errs <- &BareError{Outcome: pr.Outcome, Err: err}
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	close(errs)
	return el, <-errs
}
