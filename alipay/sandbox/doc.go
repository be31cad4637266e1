// Package sandbox is a faithful, stateful simulator of Alipay's global mapi
// in-store gateway (the four services of the Tickets solution: spot pay,
// query, cancel and refund), for tests and for trying a till without a
// real gateway.
//
// A Server is an http.Handler. Mount it under httptest in a test, or run it
// standalone with `tillbridge sandbox`. It answers:
//
//   - /gateway.do — the gateway itself (GET or POST), with parameter and
//     signature checks (MD5, RSA, RSA2), signed XML answers, a store of
//     trades keyed by partner and partner_trans_id, the 3-minute auto-close,
//     the re-pay table, cancel and refund rules of alipay-reference.md.
//   - /sandbox/… — a steering and inspection API that is never subject to
//     faults: gateway-wide faults (down, slow, system_error), the ledger of
//     every trade and refund, and the transaction and settlement files of a
//     day.
//
// The buyer code picks the behaviour of a payment: 18-digit codes starting
// with 28 are scenario codes whose last two digits select an outcome (see
// docs/sandbox.md and the Scenario constants).
//
// Every time-dependent status is a function of timestamps stored with the
// trade and of Config.Clock — there are no timers — so the state survives a
// restart when Config.StateFile is set: an SQLite database (WAL) where each
// change writes the changed trade's row.
//
// The package imports only the standard library, golang.org/x/text, the
// SQLite driver (github.com/mattn/go-sqlite3) and the alipay package, and
// holds no package-level mutable state.
package sandbox
