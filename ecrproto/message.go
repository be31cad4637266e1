package ecrproto

import (
	"log/slog"
)

// ProtocolVersion is the protocol version this package speaks. HELLO
// answers carry it in the version field.
const ProtocolVersion = "1"

// DefaultMaxMessageSize is the largest message accepted by default: the
// JSON line without its newline, or the frame payload without STX, ETX and
// LRC.
const DefaultMaxMessageSize = 64 << 10

// Request types, sent by the ECR (or an EFT POS device) to the daemon.
const (
	TypeHello   = "HELLO"   // handshake: protocol version, and the shared key for remote access
	TypeSale    = "SALE"    // take a payment
	TypeStatus  = "STATUS"  // the current or final result of a sale (recovery)
	TypeCancel  = "CANCEL"  // cancel (reverse) a sale
	TypeRefund  = "REFUND"  // refund all or part of a paid sale
	TypeScan    = "SCAN"    // deliver a scanned customer code to a lane waiting for one
	TypeAbort   = "ABORT"   // stop the lane's running sale
	TypePrint   = "PRINT"   // print text on the lane's receipt printer
	TypeDevices = "DEVICES" // report the state of the lane's scanner and printer
	TypePing    = "PING"    // liveness check, answered by the server itself
)

// Response types, sent by the daemon to the ECR.
const (
	TypeEvent  = "EVENT"  // progress of a running request; not final
	TypeResult = "RESULT" // the final answer to a request
	TypeError  = "ERROR"  // the request was refused; final
)

// RESULT statuses.
const (
	StatusApproved  = "APPROVED"  // paid: Alipay confirmed success
	StatusDeclined  = "DECLINED"  // not paid: a definitive failure
	StatusCancelled = "CANCELLED" // not paid, or reversed: a confirmed cancel
	StatusRefunded  = "REFUNDED"  // the refund is confirmed
	StatusPending   = "PENDING"   // not final yet (STATUS answers only); ask again
	StatusManual    = "MANUAL"    // needs a person; reason says why
	StatusOK        = "OK"        // a non-money request succeeded (HELLO, PING, SCAN, ABORT, PRINT, DEVICES)
)

// EVENT names.
const (
	EventWaitScan         = "WAIT_SCAN"          // the lane waits for the customer's code
	EventScanned          = "SCANNED"            // a code was read
	EventSent             = "SENT"               // the payment request went to Alipay
	EventWaitBuyerConfirm = "WAIT_BUYER_CONFIRM" // the buyer must confirm on the phone
	EventCancelling       = "CANCELLING"         // the sale is being cancelled
	EventPrinting         = "PRINTING"           // the receipt is printing
	EventPrinterError     = "PRINTER_ERROR"      // the receipt could not be printed; message says why
)

// Message is one protocol message in either encoding. String fields are
// absent when empty; Amount and AmountCNY are absent when nil. Which
// fields each type uses is documented in docs/ecr-protocol.md and checked
// by Validate.
type Message struct {
	// Type is the message type: a Type* constant.
	Type string
	// ID is chosen by the sender of a request and echoed in every EVENT,
	// RESULT and ERROR answering it.
	ID string
	// Lane names the till (lane) the request is for.
	Lane string
	// Ref is the ECR's reference for a sale: the idempotency key per lane.
	Ref string
	// Amount is in integer minor units of Currency (1250 = 12.50 HKD).
	Amount *int64
	// Currency is the ISO 4217 code of Amount, e.g. "HKD".
	Currency string
	// Subject is the order description shown to the buyer in Alipay.
	Subject string
	// Barcode is the customer's payment code (SALE, SCAN). Never logged.
	Barcode string
	// RefundRef is the ECR's reference for a refund: its idempotency key.
	RefundRef string
	// Event is the EVENT name: an Event* constant.
	Event string
	// Status is the RESULT status: a Status* constant.
	Status string
	// Reason is a machine-readable cause for DECLINED, CANCELLED or MANUAL
	// (e.g. an Alipay error code).
	Reason string
	// Message is human-readable text, safe to show to the cashier.
	Message string
	// AlipayTransID is Alipay's transaction id; every APPROVED RESULT has it.
	AlipayTransID string
	// Buyer is the buyer's Alipay login id, masked.
	Buyer string
	// AmountCNY is the amount in CNY minor units (fen), when Alipay reports it.
	AmountCNY *int64
	// ExchangeRate is Alipay's rate from Currency to CNY, as a decimal string.
	ExchangeRate string
	// PaidAt is when Alipay recorded the payment, RFC 3339.
	PaidAt string
	// Receipt is receipt text; lines are separated by LF.
	Receipt string
	// Code is the ERROR code: a Code* constant.
	Code string
	// Field names the offending field of an E_FIELD ERROR.
	Field string
	// DupID is the id of a request still in flight that a refused request
	// reused (an E_FIELD ERROR for field id, which then has no ID, so it
	// cannot be taken for the running request's answer).
	DupID string
	// Version is the protocol version (HELLO and its RESULT).
	Version string
	// Key is the shared key for remote access (HELLO). Never logged.
	Key string
}

// Int returns a pointer to v, for Message.Amount and Message.AmountCNY.
func Int(v int64) *int64 { return &v }

// IsRequest reports whether t is a request type.
func IsRequest(t string) bool {
	switch t {
	case TypeHello, TypeSale, TypeStatus, TypeCancel, TypeRefund,
		TypeScan, TypeAbort, TypePrint, TypeDevices, TypePing:
		return true
	}
	return false
}

// IsFinal reports whether m ends its request: a RESULT or an ERROR.
func (m *Message) IsFinal() bool {
	return m.Type == TypeResult || m.Type == TypeError
}

// Err returns the *Error an ERROR message carries, or nil for any other
// message.
func (m *Message) Err() error {
	if m == nil || m.Type != TypeError {
		return nil
	}
	return &Error{Code: m.Code, Field: m.Field, Message: m.Message}
}

// Clone returns a deep copy of m.
func (m *Message) Clone() *Message {
	c := *m
	if m.Amount != nil {
		c.Amount = Int(*m.Amount)
	}
	if m.AmountCNY != nil {
		c.AmountCNY = Int(*m.AmountCNY)
	}
	return &c
}

// LogValue implements slog.LogValuer. The barcode is masked to its last 4
// characters, the key is never shown, and every value is cut to MaxEcho
// bytes, so messages can be logged as is.
func (m *Message) LogValue() slog.Value {
	var attrs []slog.Attr
	for i := range fieldTable {
		f := &fieldTable[i]
		v, ok := f.text(m)
		if !ok {
			continue
		}
		switch f.name {
		case "barcode":
			v = MaskCode(v)
		case "key":
			v = "***"
		case "receipt":
			v = "(" + itoa(int64(len(v))) + " bytes)"
		}
		attrs = append(attrs, slog.String(f.name, clip(v)))
	}
	return slog.GroupValue(attrs...)
}

// MaskCode masks a customer code for logs and receipts: all but the last 4
// characters become '*'.
func MaskCode(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	b := []byte(s)
	for i := 0; i < len(b)-4; i++ {
		b[i] = '*'
	}
	return string(b)
}
