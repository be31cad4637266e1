// Package queue is tillbridge's durable payment engine: a journal of every
// money operation (sale, refund) kept in one SQLite file, and the scheduler
// that drives each operation to a final state whatever fails — the network,
// the gateway, or the till PC's power.
//
// The journal holds the current state of each operation in the operations
// table and an append-only log of every transition and gateway attempt in the
// events table. The engine ([Engine]) owns the lifecycle described in
// docs/journal.md:
//
//   - A sale is recorded when the ECR asks for it ([Engine.SubmitSale]) and
//     paid when the buyer's code arrives ([Engine.StartPay]). The attempt is
//     committed before the pay request leaves (write-ahead), so a crash after
//     it is treated as an unknown outcome: query, then cancel at the deadline,
//     never a second payment.
//   - Unknown outcomes are polled by query, cancelled at the pay deadline, and
//     cancels and refunds are retried with capped exponential backoff for as
//     long as the gateway stays unreachable (store and forward).
//   - What cannot be finished automatically ends in [StateManual] with a
//     reason a person can act on.
//
// The package knows nothing of Alipay: it declares the small [Gateway]
// interface it needs with its own types; the adapter in queue/alipaygw
// implements it over the real client. It imports only the standard library
// and the SQLite driver, and holds no package-level mutable state.
package queue
