package recon_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/recon"
)

const columnLine = "Partner_transaction_id|Transaction_id|Transaction_amount|Charge_amount|Currency|Payment_time|" +
	"Transaction_type|Remark|Secondary_merchant_industry|Secondary_merchant_name|Operator_name|Order_scene|" +
	"Trans_currency|Trans_amount|Trans_forex_rate"

// writeTxnFile writes a transaction file of day with the given records.
func writeTxnFile(t *testing.T, dir, day string, recs ...string) string {
	t.Helper()
	p := filepath.Join(dir, "txn-"+day+".txt")
	body := fmt.Sprintf("Partner:%s|Payment_time: %s|Total_count:%d\n%s\n", testPartner, day, len(recs), columnLine)
	for _, r := range recs {
		body += r + "\n"
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCarryOverAndExceptions: a payment missing from the day's file is an
// open, carried exception; the next day's file lists it late and the
// exception is resolved with the reason; other exceptions are resolved by
// hand with a reason and never deleted; a re-run does not duplicate.
func TestCarryOverAndExceptions(t *testing.T) {
	ctx := context.Background()
	d := newDay(t)
	st, err := recon.OpenStore(ctx, filepath.Join(d.dir, "recon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	paid1 := d.ops["paid1"]
	if err := d.sb.SetFileFault(sandbox.FileFault{Kind: sandbox.FileFaultMissing, PartnerTransID: paid1.PartnerTransID}); err != nil {
		t.Fatal(err)
	}
	if err := d.sb.SetFileFault(sandbox.FileFault{Kind: sandbox.FileFaultUnknownPaid, Amount: 100, At: d.clock()}); err != nil {
		t.Fatal(err)
	}
	d.reconcile(t, st)
	d.reconcile(t, st) // again: the same exceptions, not twice
	open, err := st.Exceptions(ctx, recon.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byClass := map[recon.Class]recon.Exception{}
	for _, e := range open {
		byClass[e.Item.Class] = e
	}
	if len(open) != 3 || byClass[recon.ClassMissingAtAlipay].Item.Key != paid1.PartnerTransID ||
		byClass[recon.ClassPaidNotApproved].ID == 0 || byClass[recon.ClassSettlementMismatch].ID == 0 {
		t.Fatalf("open exceptions: %+v", open)
	}

	// The next day's file lists paid1 late.
	late := fmt.Sprintf("%s|%s|12.50|0.00|HKD|2026-03-05 00:00:05|PAYMENT||||Main Gate|paymentQrCode|HKD|12.50|1.00000000",
		paid1.PartnerTransID, paid1.AlipayTransID)
	f := writeTxnFile(t, d.dir, "2026-03-05", late)
	res, err := recon.Reconcile(ctx, recon.Options{Day: "2026-03-05", TransactionFile: f, Journals: []string{d.journal},
		Store: st, Now: func() time.Time { return d.clock().Add(24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Counts[recon.ClassLateMatched] != 1 || res.Report.Counts[recon.ClassMatched] != 1 || res.Report.Exceptions != 0 {
		t.Fatalf("next day:\n%s", dump(res.Report))
	}
	all, _ := st.Exceptions(ctx, recon.Filter{All: true})
	for _, e := range all {
		if e.Item.Class == recon.ClassMissingAtAlipay && (e.Status != "resolved" || !strings.Contains(e.Reason, "2026-03-05")) {
			t.Fatalf("carried exception not resolved by the late file: %+v", e)
		}
	}

	// By hand: a reason is required, once only, and the row stays.
	id := byClass[recon.ClassPaidNotApproved].ID
	if err := st.Resolve(ctx, id, " ", "tech", time.Now()); err == nil {
		t.Fatal("resolve without a reason accepted")
	}
	if err := st.Resolve(ctx, id, "refunded in the merchant portal", "tech", time.Now()); err != nil {
		t.Fatal(err)
	}
	var se *recon.StateError
	if err := st.Resolve(ctx, id, "again", "tech", time.Now()); !errors.As(err, &se) {
		t.Fatalf("second resolve: %v", err)
	}
	if err := st.Resolve(ctx, 9999, "x", "tech", time.Now()); !errors.Is(err, recon.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	open, _ = st.Exceptions(ctx, recon.Filter{})
	all, _ = st.Exceptions(ctx, recon.Filter{All: true})
	if len(open) != 1 || len(all) != 3 {
		t.Fatalf("open %d all %d", len(open), len(all))
	}
	rep, _, err := st.LastRun(ctx)
	if err != nil || rep == nil || rep.Day != "2026-03-05" {
		t.Fatalf("last run: %v %v", rep, err)
	}
}

// TestBadLinesAndWrongDay: a corrupt line is an exception with its line
// number; a file of another day is refused.
func TestBadLinesAndWrongDay(t *testing.T) {
	ctx := context.Background()
	d := newDay(t)
	txn, _ := d.files(t)
	raw, _ := os.ReadFile(txn)
	ls := strings.Split(string(raw), "\n")
	ls[3] = strings.Replace(ls[3], "|12.50|", "|12,50|", 1)
	bad := filepath.Join(d.dir, "bad.txt")
	os.WriteFile(bad, []byte(strings.Join(ls, "\n")), 0o600)
	res, err := recon.Reconcile(ctx, recon.Options{Day: testDay, TransactionFile: bad, Journals: []string{d.journal}, Now: d.clock})
	if err != nil {
		t.Fatal(err)
	}
	bl := items(res.Report, recon.ClassBadLine)
	if len(bl) != 1 || bl[0].Line != 4 || !strings.Contains(bl[0].Detail, "Transaction_amount") {
		t.Fatalf("bad line:\n%s", dump(res.Report))
	}
	// The unreadable payment is not silently treated as matched: the sale
	// it was is now missing at Alipay too.
	if res.Report.Counts[recon.ClassMissingAtAlipay]+res.Report.Counts[recon.ClassCancelMismatch]+res.Report.Counts[recon.ClassRefundMismatch] != 1 {
		t.Fatalf("the unread record's operation:\n%s", dump(res.Report))
	}
	var de *recon.DayError
	if _, err := recon.Reconcile(ctx, recon.Options{Day: "2026-03-05", TransactionFile: txn, Journals: []string{d.journal}}); !errors.As(err, &de) {
		t.Fatalf("wrong day: %v", err)
	}
	if _, err := recon.Reconcile(ctx, recon.Options{Day: testDay, TransactionFile: txn, Journals: []string{d.journal},
		Partner: "2088000000000001"}); !errors.As(err, &de) {
		t.Fatalf("wrong partner: %v", err)
	}
}

// TestCancelledAtAlipayOnly: a trade the journal still counts as paid but
// Alipay reversed is a cancel mismatch; a payment Alipay lists and then
// cancelled, for a sale never approved here, is cancelled (no money kept).
func TestCancelledAtAlipayOnly(t *testing.T) {
	d := newDay(t)
	paid1, declined := d.ops["paid1"], d.ops["declined"]
	rec := func(id, alipayID, typ string) string {
		return fmt.Sprintf("%s|%s|12.50|0.00|HKD|2026-03-04 13:00:00|%s||||Main Gate|paymentQrCode|HKD|12.50|1.00000000", id, alipayID, typ)
	}
	f := writeTxnFile(t, d.dir, testDay,
		rec(paid1.PartnerTransID, paid1.AlipayTransID, "PAYMENT"),
		rec(paid1.PartnerTransID, paid1.AlipayTransID, "REVERSAL"),
		rec(declined.PartnerTransID, "2026030400000000000000000001", "PAYMENT"),
		rec(declined.PartnerTransID, "2026030400000000000000000001", "CANCEL"))
	res, err := recon.Reconcile(context.Background(), recon.Options{Day: testDay, TransactionFile: f, Journals: []string{d.journal}, Now: d.clock})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	cm := items(r, recon.ClassCancelMismatch)
	if len(cm) == 0 || cm[0].Key != paid1.PartnerTransID || cm[0].Type != "REVERSAL" || !strings.Contains(cm[0].Detail, "Alipay reversed") {
		t.Fatalf("reversal of a paid sale:\n%s", dump(r))
	}
	n := 0
	for _, it := range items(r, recon.ClassCancelled) {
		if it.Key == declined.PartnerTransID {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("paid+cancelled trade never approved here:\n%s", dump(r))
	}
}
