package ecrproto

import "context"

// Hello sends HELLO with this package's protocol version and the
// client's key; the RESULT carries the server's version.
func (c *Client) Hello(ctx context.Context) (*Message, error) {
	return c.Do(ctx, &Message{Type: TypeHello, Version: ProtocolVersion, Key: c.opts.Key})
}

// Ping checks the server answers.
func (c *Client) Ping(ctx context.Context) (*Message, error) {
	return c.Do(ctx, &Message{Type: TypePing})
}

// Sale takes a payment of amount minor units on lane under the ECR's ref.
// With an empty barcode the lane waits for a scan.
func (c *Client) Sale(ctx context.Context, lane, ref string, amount int64, currency, barcode string) (*Message, error) {
	return c.Do(ctx, &Message{Type: TypeSale, Lane: lane, Ref: ref, Amount: Int(amount),
		Currency: currency, Barcode: barcode})
}

// Status asks for the result of the sale ref on lane (empty ref: the
// lane's last sale). Use it after a timeout or a lost connection.
func (c *Client) Status(ctx context.Context, lane, ref string) (*Message, error) {
	return c.Do(ctx, &Message{Type: TypeStatus, Lane: lane, Ref: ref})
}

// Cancel cancels (reverses) the sale ref on lane.
func (c *Client) Cancel(ctx context.Context, lane, ref string) (*Message, error) {
	return c.Do(ctx, &Message{Type: TypeCancel, Lane: lane, Ref: ref})
}

// Refund refunds amount of the sale ref on lane, under the ECR's refundRef.
func (c *Client) Refund(ctx context.Context, lane, ref, refundRef string, amount int64, currency string) (*Message, error) {
	return c.Do(ctx, &Message{Type: TypeRefund, Lane: lane, Ref: ref, RefundRef: refundRef,
		Amount: Int(amount), Currency: currency})
}

// Scan delivers a customer code to lane, which must be waiting for one.
func (c *Client) Scan(ctx context.Context, lane, barcode string) (*Message, error) {
	return c.Do(ctx, &Message{Type: TypeScan, Lane: lane, Barcode: barcode})
}

// Abort stops the running sale on lane (ref may be empty).
func (c *Client) Abort(ctx context.Context, lane, ref string) (*Message, error) {
	return c.Do(ctx, &Message{Type: TypeAbort, Lane: lane, Ref: ref})
}

// Print prints receipt text (lines separated by LF) on lane's printer.
func (c *Client) Print(ctx context.Context, lane, receipt string) (*Message, error) {
	return c.Do(ctx, &Message{Type: TypePrint, Lane: lane, Receipt: receipt})
}

// Devices reports the state of lane's devices (empty lane: all lanes).
func (c *Client) Devices(ctx context.Context, lane string) (*Message, error) {
	return c.Do(ctx, &Message{Type: TypeDevices, Lane: lane})
}
