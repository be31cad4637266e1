package queue

import "time"

// Kind says what an operation does with money.
type Kind string

// Operation kinds.
const (
	// KindSale is a barcode payment, possibly cancelled later.
	KindSale Kind = "sale"
	// KindRefund is a full or partial refund of a paid sale.
	KindRefund Kind = "refund"
)

// State is where an operation stands in its lifecycle (docs/journal.md has
// the diagram).
type State string

// Sale states. Non-final states are driven by the engine; final states stay
// until someone acts (a paid sale may still be cancelled or refunded).
const (
	// StateWaitingScan: the ECR asked for the sale; no buyer code yet and no
	// gateway contact. After a restart it becomes voided.
	StateWaitingScan State = "waiting_scan"
	// StatePaying: the pay attempt is committed and the request may have
	// left. Found at start-up, it is treated as unknown (query).
	StatePaying State = "paying"
	// StateQuerying: the pay outcome is unknown; the engine polls by query
	// until the pay deadline, then cancels.
	StateQuerying State = "querying"
	// StateCancelling: the engine owns the duty to cancel the trade and
	// retries the cancel until it is confirmed.
	StateCancelling State = "cancelling"
	// StateChecking: the cancel cannot succeed any more (retry_flag=N, the
	// cancel window closed, or attempts ran out); the engine queries the trade
	// to decide between cancelled/declined, a full refund, and manual.
	StateChecking State = "checking"
	// StatePaid: the gateway confirmed the payment (final unless cancelled).
	StatePaid State = "paid"
	// StateDeclined: the gateway refused the payment, or no trade exists;
	// no money moved.
	StateDeclined State = "declined"
	// StateCancelled: the cancel was confirmed (the trade is closed, or a
	// paid trade was refunded by the cancel or by an automatic refund).
	StateCancelled State = "cancelled"
	// StateVoided: the sale ended before its pay request was sent; no money
	// moved.
	StateVoided State = "voided"
	// StateManual: the engine could not finish the operation; Reason says
	// what a person must check and do. Resolve ends it.
	StateManual State = "manual"
)

// Refund states (plus StateManual).
const (
	// StateRefunding: the refund is committed and retried until answered.
	StateRefunding State = "refunding"
	// StateRefunded: the gateway confirmed the refund.
	StateRefunded State = "refunded"
	// StateRefundDeclined: the gateway refused the refund with a business
	// code; no money moved.
	StateRefundDeclined State = "refund_declined"
)

// Final reports whether s is a state the engine no longer drives.
func (s State) Final() bool {
	switch s {
	case StatePaid, StateDeclined, StateCancelled, StateVoided, StateManual,
		StateRefunded, StateRefundDeclined:
		return true
	}
	return false
}

// Valid reports whether s is one of the states above.
func (s State) Valid() bool {
	switch s {
	case StateWaitingScan, StatePaying, StateQuerying, StateCancelling, StateChecking,
		StateRefunding:
		return true
	}
	return s.Final()
}

// States lists every state, in lifecycle order.
func States() []State {
	return []State{StateWaitingScan, StatePaying, StateQuerying, StateCancelling,
		StateChecking, StatePaid, StateDeclined, StateCancelled, StateVoided,
		StateRefunding, StateRefunded, StateRefundDeclined, StateManual}
}

// Call names a gateway service.
type Call string

// Gateway calls.
const (
	CallNone   Call = ""
	CallPay    Call = "pay"
	CallQuery  Call = "query"
	CallCancel Call = "cancel"
	CallRefund Call = "refund"
)

// EventName says what an event records; the daemon turns some of them into
// ECR EVENT messages.
type EventName string

// Event names.
const (
	EventWaitScan         EventName = "WAIT_SCAN"          // sale recorded, waiting for the buyer code
	EventSent             EventName = "SENT"               // pay attempt committed; the request leaves now
	EventApproved         EventName = "APPROVED"           // payment confirmed
	EventDeclined         EventName = "DECLINED"           // payment refused, or no trade exists
	EventWaitBuyerConfirm EventName = "WAIT_BUYER_CONFIRM" // the buyer must confirm on the phone
	EventUnknown          EventName = "UNKNOWN"            // pay outcome unknown; polling
	EventAttempt          EventName = "ATTEMPT"            // a query/cancel/refund attempt committed
	EventAnswer           EventName = "ANSWER"             // an answer that changes nothing
	EventRetry            EventName = "RETRY"              // a cancel/refund will be retried
	EventCancelling       EventName = "CANCELLING"         // the engine owns the duty to cancel
	EventCancelled        EventName = "CANCELLED"          // cancel confirmed
	EventChecking         EventName = "CHECKING"           // cancel impossible; querying to decide
	EventVoided           EventName = "VOIDED"             // ended before the pay was sent
	EventRefunding        EventName = "REFUNDING"          // refund recorded
	EventRefunded         EventName = "REFUNDED"           // refund confirmed
	EventRefundDeclined   EventName = "REFUND_DECLINED"    // refund refused
	EventManual           EventName = "MANUAL"             // needs a person; see the reason
	EventRecovered        EventName = "RECOVERED"          // found mid-call at start-up
	EventSuperseded       EventName = "SUPERSEDED"         // a late answer after the operation moved on
	EventRetryNow         EventName = "RETRY_NOW"          // an operator asked for an attempt now
	EventResolved         EventName = "RESOLVED"           // an operator set the final state
)

// Operation is one money movement and its current state.
type Operation struct {
	ID              string    // sortable operation id
	Kind            Kind      // sale or refund
	Lane            string    // the till
	Ref             string    // the ECR's ref (sale) or refund_ref (refund); unique per lane and kind
	ParentID        string    // for a refund: the sale it refunds
	State           State     // current state
	PartnerTransID  string    // the sale's partner_trans_id (a refund carries its sale's)
	PartnerRefundID string    // refunds only
	Amount          int64     // minor units of Currency
	Currency        string    // ISO code, upper case
	Subject         string    // trans_name shown to the buyer
	Terminal        string    // terminal id sent with the pay
	BuyerMasked     string    // last 4 digits of the buyer code, the rest masked
	Attempts        int       // gateway calls so far
	StateAttempts   int       // gateway calls in the current state
	NextAttemptAt   time.Time // when the engine acts next; zero when it has nothing to do
	PaySentAt       time.Time // when the pay request was committed and sent
	CancelRequested bool      // the ECR (not the deadline) asked to cancel
	Auto            bool      // a refund the engine queued itself
	Reason          string    // why it is declined/manual/resolved
	LastCode        string    // last gateway code
	AlipayTransID   string    // Alipay's trade id
	BuyerLogin      string    // masked buyer login, as the gateway sent it
	AmountCNY       string    // amount paid in CNY, decimal as the gateway sent it
	ExchangeRate    string    // rate to CNY, decimal as the gateway sent it
	PaidAt          time.Time // payment time at the gateway
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FinalAt         time.Time // when it entered its current final state
	Version         int64     // bumped by every write; guards late answers
}

// Final reports whether the engine no longer drives o.
func (o Operation) Final() bool { return o.State.Final() }

// Event is one entry of an operation's append-only log, as stored and as
// delivered to subscribers.
type Event struct {
	Seq       int64     // position in the journal's log
	OpID      string    // the operation
	Lane      string    // its lane
	Ref       string    // its ref
	Kind      Kind      // its kind
	Name      EventName // what happened
	Call      Call      // the gateway call involved, if any
	From      State     // state before
	To        State     // state after (equal to From for attempts and answers)
	Code      string    // gateway code (error or result code)
	RawStatus string    // raw result_code / trade status
	Detail    string    // free text: ids, reasons, operator
	At        time.Time // when it was recorded
}

// Filter selects operations for List. Zero fields select everything.
type Filter struct {
	States []State   // any of these states
	Kind   Kind      // only this kind
	Lane   string    // only this lane
	Since  time.Time // created at or after
	Until  time.Time // created before
	Limit  int       // at most this many (0: 1000)
	Order  SortOrder // by creation time
}

// SortOrder orders List results by creation time.
type SortOrder int

// Sort orders.
const (
	NewestFirst SortOrder = iota
	OldestFirst
)
