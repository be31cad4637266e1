package daemon

import (
	"context"
	"errors"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/queue"
)

// SaleReceipt returns the receipt of the sale ref on the lane ("" for the
// only lane), read from the journal. A sale that is not final, or ended
// without a receipt (voided, manual), is a control.CodeState error.
func (d *Daemon) SaleReceipt(ctx context.Context, laneID, ref string) (control.SaleReceipt, error) {
	l, err := d.controlLane(laneID)
	if err != nil {
		return control.SaleReceipt{}, err
	}
	if ref == "" {
		return control.SaleReceipt{}, control.Errorf(control.CodeInvalid, "which sale? give its ref")
	}
	op, err := d.eng.GetByRef(ctx, l.cfg.ID, queue.KindSale, ref)
	if errors.Is(err, queue.ErrNotFound) {
		return control.SaleReceipt{}, control.Errorf(control.CodeNotFound, "lane %s has no sale %q in the journal", l.cfg.ID, ref)
	}
	if err != nil {
		return control.SaleReceipt{}, err
	}
	r, ok := d.receiptFor(op, op.Ref, false)
	if !ok {
		return control.SaleReceipt{}, control.Errorf(control.CodeState, "sale %q has no receipt: it is %s", ref, op.State)
	}
	return control.SaleReceipt{Lane: l.cfg.ID, Ref: ref, OpID: op.ID, State: string(op.State), Profile: l.profile(), Receipt: r}, nil
}
