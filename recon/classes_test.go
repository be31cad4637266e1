package recon_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/recon"
)

// TestReconcileDay runs one real day (sandbox gateway, engine, journal) and
// plants each mismatch class in the sandbox's files, one at a time.
func TestReconcileDay(t *testing.T) {
	t.Parallel()
	d := newDay(t)
	paid1, paid2, cancel, declined, refund := d.ops["paid1"], d.ops["paid2"], d.ops["cancel"], d.ops["declined"], d.ops["refund"]

	t.Run("clean day matches", func(t *testing.T) {
		r := d.reconcile(t, nil)
		if r.Exceptions != 0 {
			t.Fatalf("clean day has exceptions:\n%s", dump(r))
		}
		// Matched: 3 payments (the cancelled sale was approved first) and the
		// refund; the cancel of the cancelled sale; 5 settlement records.
		if r.Counts[recon.ClassMatched] != 4 || r.Counts[recon.ClassCancelled] != 1 || r.Counts[recon.ClassSettled] != 5 {
			t.Fatalf("counts:\n%s", dump(r))
		}
		if len(r.Totals) != 1 {
			t.Fatalf("totals: %+v", r.Totals)
		}
		tot := r.Totals[0]
		want := recon.Totals{Currency: "HKD", Payments: 3, PaymentSum: 3750, Refunds: 1, RefundSum: 250, Cancels: 1,
			CancelSum: 1250, Net: 2250, JournalPayments: 3, JournalPaymentSum: 3750, JournalRefunds: 1,
			JournalRefundSum: 250, JournalCancels: 1, JournalCancelSum: 1250, Settled: 5, SettledAmount: 2250, NetSettlement: 2250}
		if tot != want {
			t.Fatalf("totals\n got %+v\nwant %+v", tot, want)
		}
		if declined.PartnerTransID == "" {
			t.Fatal("declined sale has no partner_trans_id")
		}
	})

	plant := func(t *testing.T, f sandbox.FileFault) *recon.Report {
		t.Helper()
		d.sb.ClearFileFaults()
		t.Cleanup(d.sb.ClearFileFaults)
		if err := d.sb.SetFileFault(f); err != nil {
			t.Fatal(err)
		}
		return d.reconcile(t, nil)
	}
	one := func(t *testing.T, r *recon.Report, c recon.Class, key string) recon.Item {
		t.Helper()
		its := items(r, c)
		for _, it := range its {
			if it.Key == key {
				return it
			}
		}
		t.Fatalf("no %s item for %s:\n%s", c, key, dump(r))
		return recon.Item{}
	}

	t.Run("paid at Alipay, unknown here", func(t *testing.T) {
		r := plant(t, sandbox.FileFault{Kind: sandbox.FileFaultUnknownPaid, Amount: 990, At: d.clock()})
		its := items(r, recon.ClassPaidNotApproved)
		if len(its) != 1 || its[0].Amount != 990 || !strings.HasPrefix(its[0].Key, "TBT01") || its[0].OpID != "" {
			t.Fatalf("want one paid_not_approved of 9.90:\n%s", dump(r))
		}
		// The payment and its settlement record.
		if r.Verdict() != "EXCEPTIONS: 2 (worst: paid_not_approved)" {
			t.Fatalf("verdict %q", r.Verdict())
		}
	})
	t.Run("paid at Alipay, declined here", func(t *testing.T) {
		r := plant(t, sandbox.FileFault{Kind: sandbox.FileFaultUnknownPaid, PartnerTransID: declined.PartnerTransID,
			Amount: 1250, At: d.clock()})
		it := one(t, r, recon.ClassPaidNotApproved, declined.PartnerTransID)
		if it.State != string(queue.StateDeclined) || it.OpID != declined.ID {
			t.Fatalf("item %+v", it)
		}
	})
	t.Run("approved here, missing at Alipay", func(t *testing.T) {
		r := plant(t, sandbox.FileFault{Kind: sandbox.FileFaultMissing, PartnerTransID: paid1.PartnerTransID})
		it := one(t, r, recon.ClassMissingAtAlipay, paid1.PartnerTransID)
		if !it.Carried || it.OpID != paid1.ID {
			t.Fatalf("item %+v", it)
		}
	})
	t.Run("wrong amount", func(t *testing.T) {
		r := plant(t, sandbox.FileFault{Kind: sandbox.FileFaultWrongAmount, PartnerTransID: paid1.PartnerTransID, Amount: 1205})
		it := one(t, r, recon.ClassAmountMismatch, paid1.PartnerTransID)
		if it.Amount != 1205 || it.LocalAmount != 1250 {
			t.Fatalf("item %+v", it)
		}
		one(t, r, recon.ClassSettlementMismatch, paid1.PartnerTransID)
	})
	t.Run("refund missing at Alipay", func(t *testing.T) {
		r := plant(t, sandbox.FileFault{Kind: sandbox.FileFaultMissing, PartnerTransID: refund.PartnerRefundID})
		it := one(t, r, recon.ClassRefundMismatch, refund.PartnerRefundID)
		if !it.Carried || it.OpID != refund.ID {
			t.Fatalf("item %+v", it)
		}
	})
	t.Run("refund amount differs", func(t *testing.T) {
		r := plant(t, sandbox.FileFault{Kind: sandbox.FileFaultWrongAmount, PartnerTransID: refund.PartnerRefundID, Amount: 300})
		one(t, r, recon.ClassRefundMismatch, refund.PartnerRefundID)
	})
	t.Run("cancel missing at Alipay", func(t *testing.T) {
		r := plant(t, sandbox.FileFault{Kind: sandbox.FileFaultMissing, PartnerTransID: cancel.PartnerTransID})
		one(t, r, recon.ClassCancelMismatch, cancel.PartnerTransID)
	})
	t.Run("duplicate payment", func(t *testing.T) {
		r := plant(t, sandbox.FileFault{Kind: sandbox.FileFaultDuplicate, PartnerTransID: paid2.PartnerTransID})
		one(t, r, recon.ClassDuplicatePayment, paid2.PartnerTransID)
	})
	t.Run("fee", func(t *testing.T) {
		r := plant(t, sandbox.FileFault{Kind: sandbox.FileFaultFee, Fee: 25})
		if r.Exceptions != 0 {
			t.Fatalf("a fee is not an exception:\n%s", dump(r))
		}
		tot := r.Totals[0]
		// 5 movements × 0.25 in the transaction file and the settlement file.
		if tot.Fees != 125 || tot.Net != 2250-125 || tot.SettlementFees != 125 || tot.NetSettlement != 2250-25*3+25*2 {
			t.Fatalf("fees: %+v", tot)
		}
		if it := one(t, r, recon.ClassMatched, paid1.PartnerTransID); it.Fee != 25 {
			t.Fatalf("item fee: %+v", it)
		}
	})
	t.Run("other till of the partner", func(t *testing.T) {
		r := plant(t, sandbox.FileFault{Kind: sandbox.FileFaultUnknownPaid, PartnerTransID: "TBT0920260304030000ZZZZZZZZ",
			Amount: 5000, At: d.clock()})
		if r.Exceptions != 0 || r.Counts[recon.ClassOtherTill] != 2 { // transaction and settlement records
			t.Fatalf("other till:\n%s", dump(r))
		}
		if r.Totals[0].OtherTillRecs != 1 || r.Totals[0].OtherTillNet != 5000 || r.Totals[0].PaymentSum != 3750 {
			t.Fatalf("other till counted in this till's totals: %+v", r.Totals[0])
		}
	})
}

// TestReconcileSeveralJournals reconciles two tills' journals against one
// partner's file: the second till's sales are matched, not "other till";
// and one ECR sale paid under two ids (the till reinstalled, its ref
// reused) is a duplicate payment.
func TestReconcileSeveralJournals(t *testing.T) {
	t.Parallel()
	d := newDay(t)
	srvURL := startGateway(t, d.sb)
	j2 := filepath.Join(d.dir, "till2.db")
	j3 := filepath.Join(d.dir, "till1-reinstalled.db")
	for _, j := range []struct{ file, term, ref string }{{j2, "T02", "t2-sale"}, {j3, "T01", "paid1"}} {
		runSales(t, srvURL, j.file, j.term, d.clock, func(ctx context.Context, e *queue.Engine) {
			op, err := e.SubmitSale(ctx, queue.Sale{Lane: "1", Ref: j.ref, Amount: 700, Currency: "HKD", Terminal: j.term, BuyerCode: codePaid})
			if err != nil {
				t.Fatal(err)
			}
			waitFinal(t, e, op.Op.ID)
		})
	}
	r := d.reconcile(t, nil, j2, j3)
	if r.Counts[recon.ClassOtherTill] != 0 || r.Counts[recon.ClassMatched] != 6 {
		t.Fatalf("two journals:\n%s", dump(r))
	}
	dups := items(r, recon.ClassDuplicatePayment)
	if len(dups) != 1 || dups[0].Ref != "paid1" {
		t.Fatalf("duplicate of ECR sale paid1:\n%s", dump(r))
	}
	// Reconciling only till 1: till 2's sale is another till's.
	r = d.reconcile(t, nil)
	// and till 1's sale in the reinstalled journal is unknown here.
	if r.Counts[recon.ClassOtherTill] != 2 || r.Counts[recon.ClassPaidNotApproved] != 1 {
		t.Fatalf("one journal:\n%s", dump(r))
	}
}
