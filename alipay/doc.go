// Package alipay is the client of Alipay's global "mapi" in-store (barcode)
// gateway used by the till: the canonical pre-sign string, MD5 / RSA / RSA2
// signing and verification, exact per-currency amounts, charset handling
// (UTF-8, GBK, GB2312), the four services of the Tickets solution (spot pay,
// query, cancel, refund) and the classification of every answer into
// Success, Declined or Unknown.
//
// Money safety rules implemented here:
//
//   - An answer is Success only when it is exactly result_code=SUCCESS inside
//     an is_success=T envelope whose signature verified.
//   - Anything ambiguous (UNKNOW, SYSTEM_ERROR, transport errors, timeouts,
//     HTTP status other than 200, malformed or oversize bodies, missing or
//     bad signatures) is Unknown. Unknown is never read as Declined.
//   - Keys, signatures and full buyer codes never reach the trace hook.
//
// The package imports only the standard library and golang.org/x/text.
// It holds no package-level mutable state; a Client is safe for concurrent
// use.
package alipay
