package daemon

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/receipt"
	"github.com/tillbridge/tillbridge/queue"
)

// SaleReceipt is a journaled sale's receipt as the daemon prints it
// (GET /v1/receipt): the Receipt built by the same code as the printed
// receipt and the RESULT's receipt text, and the profile of the lane's
// printer, so a preview can lay it out as the lane prints it.
type SaleReceipt struct {
	Lane    string          `json:"lane"`
	Ref     string          `json:"ref"`
	OpID    string          `json:"op_id"`
	State   string          `json:"state"`
	Profile escpos.Profile  `json:"profile"`
	Receipt receipt.Receipt `json:"receipt"`
}

// SaleReceipt returns the receipt of the sale ref on the lane ("" for the
// only lane), read from the journal. A sale that is not final, or ended
// without a receipt (voided, manual), is a CodeState error.
func (d *Daemon) SaleReceipt(ctx context.Context, laneID, ref string) (SaleReceipt, error) {
	l, err := d.controlLane(laneID)
	if err != nil {
		return SaleReceipt{}, err
	}
	if ref == "" {
		return SaleReceipt{}, controlErrorf(CodeInvalid, "which sale? give its ref")
	}
	op, err := d.eng.GetByRef(ctx, l.cfg.ID, queue.KindSale, ref)
	if errors.Is(err, queue.ErrNotFound) {
		return SaleReceipt{}, controlErrorf(CodeNotFound, "lane %s has no sale %q in the journal", l.cfg.ID, ref)
	}
	if err != nil {
		return SaleReceipt{}, err
	}
	r, ok := d.receiptFor(op, op.Ref, false)
	if !ok {
		return SaleReceipt{}, controlErrorf(CodeState, "sale %q has no receipt: it is %s", ref, op.State)
	}
	return SaleReceipt{Lane: l.cfg.ID, Ref: ref, OpID: op.ID, State: string(op.State), Profile: l.profile(), Receipt: r}, nil
}

func (o offlineBackend) SaleReceipt(context.Context, string, string) (SaleReceipt, error) {
	return SaleReceipt{}, errOffline
}

func (s *controlServer) handleReceipt(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	res, err := s.b.SaleReceipt(r.Context(), q.Get("lane"), q.Get("ref"))
	s.reply(w, r, res, err)
}

// SaleReceipt returns the receipt of the journaled sale ref on lane ("" for
// the only lane).
func (c *ControlClient) SaleReceipt(ctx context.Context, lane, ref string) (SaleReceipt, error) {
	var r SaleReceipt
	return r, c.call(ctx, http.MethodGet, "/v1/receipt", url.Values{"lane": {lane}, "ref": {ref}}, nil, &r)
}
