package queue

import (
	"errors"
	"fmt"
)

// ErrNotFound reports an operation id or ref the journal does not hold.
var ErrNotFound = errors.New("queue: operation not found")

// ErrClosed reports a call on a closed engine.
var ErrClosed = errors.New("queue: engine closed")

// ConfigError reports an invalid Config field.
type ConfigError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("queue: config %s: %s", e.Field, e.Reason)
}

// InvalidError reports a request with a missing or malformed field; nothing
// was recorded.
type InvalidError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *InvalidError) Error() string {
	return fmt.Sprintf("queue: invalid %s: %s", e.Field, e.Reason)
}

// RefConflictError reports a submit that reuses a (lane, ref), or a
// partner_refund_id, with different parameters. Existing is the operation
// already recorded under it.
type RefConflictError struct {
	Lane     string
	Ref      string
	Field    string // the first parameter that differs
	Existing Operation
}

// Error implements error.
func (e *RefConflictError) Error() string {
	return fmt.Sprintf("queue: lane %q ref %q already used with a different %s (operation %s)",
		e.Lane, e.Ref, e.Field, e.Existing.ID)
}

// RefundExceedsError reports a refund larger than what is left of the sale:
// its amount minus earlier refunds that were not declined.
type RefundExceedsError struct {
	SaleID    string
	Requested int64
	Available int64
	Currency  string
}

// Error implements error.
func (e *RefundExceedsError) Error() string {
	return fmt.Sprintf("queue: refund of %d %s exceeds the %d left on sale %s",
		e.Requested, e.Currency, e.Available, e.SaleID)
}

// LimitError reports a submit refused by a store-and-forward limit.
type LimitError struct {
	Limit    string // "max_open" or "max_pending_amount"
	Currency string // for max_pending_amount
	Max      int64
	Current  int64 // what is pending now
}

// Error implements error.
func (e *LimitError) Error() string {
	if e.Currency != "" {
		return fmt.Sprintf("queue: limit %s %s reached: %d pending, at most %d",
			e.Limit, e.Currency, e.Current, e.Max)
	}
	return fmt.Sprintf("queue: limit %s reached: %d pending, at most %d", e.Limit, e.Current, e.Max)
}

// StateError reports a request that the operation's state does not allow,
// e.g. a refund of a sale that is not paid, or cancelling a paid sale after
// the cancel window closed.
type StateError struct {
	OpID   string
	State  State
	Action string
	Reason string
}

// Error implements error.
func (e *StateError) Error() string {
	return fmt.Sprintf("queue: cannot %s operation %s in state %s: %s", e.Action, e.OpID, e.State, e.Reason)
}

// SchemaError reports a journal whose schema this build cannot use.
type SchemaError struct {
	Found, Known int
}

// Error implements error.
func (e *SchemaError) Error() string {
	return fmt.Sprintf("queue: journal schema version %d is newer than this build knows (%d)", e.Found, e.Known)
}
