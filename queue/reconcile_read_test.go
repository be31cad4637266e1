package queue

import (
	"context"
	"crypto/sha256"
	"os"
	"testing"
	"time"
)

// TestJournalReaderMatchesEngine: the read-only reader returns the
// reconciliation fields exactly as the engine's own reads (refs with the
// packing's separators and non-ASCII text included), never writes to the
// file, and refuses a file that is not a journal.
func TestJournalReaderMatchesEngine(t *testing.T) {
	h := newHarness(t)
	paid := h.paidSale("A:1;x", 1250)
	waiting := h.sale("票-2:", 700)
	ctx := context.Background()
	ref, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "r;1", SaleID: paid.ID, Amount: 250, Currency: "HKD"})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	want := map[string]Operation{}
	for _, id := range []string{paid.ID, waiting.ID, ref.ID} {
		want[id] = h.get(id)
	}
	sum := func() [32]byte {
		b, _ := os.ReadFile(h.path)
		return sha256.Sum256(b)
	}
	h.settle()
	if err := h.e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	before := sum()

	r, err := OpenJournalReader(ctx, h.path)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Count(ctx, time.Time{}); err != nil || n != 3 {
		t.Fatalf("count %d %v", n, err)
	}
	got := map[string]Operation{}
	if err := r.EachOperation(ctx, time.Time{}, func(o Operation) error { got[o.ID] = o; return nil }); err != nil {
		t.Fatal(err)
	}
	r.Close()
	for id, w := range want {
		g := got[id]
		if g.Kind != w.Kind || g.Lane != w.Lane || g.Ref != w.Ref || g.ParentID != w.ParentID || g.State != w.State ||
			g.PartnerTransID != w.PartnerTransID || g.PartnerRefundID != w.PartnerRefundID || g.Amount != w.Amount ||
			g.Currency != w.Currency || g.Terminal != w.Terminal || g.AlipayTransID != w.AlipayTransID ||
			!g.PaidAt.Equal(w.PaidAt) || !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) ||
			!g.FinalAt.Equal(w.FinalAt) {
			t.Errorf("%s:\n got %+v\nwant %+v", id, g, w)
		}
	}
	if sum() != before {
		t.Error("the reader changed the journal file")
	}
	later := 0
	r, _ = OpenJournalReader(ctx, h.path)
	_ = r.EachOperation(ctx, testStart.Add(time.Hour), func(Operation) error { later++; return nil })
	r.Close()
	if later != 0 {
		t.Errorf("since filter: %d operations", later)
	}

	bad := t.TempDir() + "/x.db"
	os.WriteFile(bad, []byte("not sqlite"), 0o600)
	if _, err := OpenJournalReader(ctx, bad); err == nil {
		t.Error("opened a file that is not a journal")
	}
}
