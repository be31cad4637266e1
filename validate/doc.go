// Package validate is tillbridge's go-live certification run (`tillbridge
// validate`): the iValidate barcode cases (SPOT-001…006) and the venue's
// own money-safety cases — declines, invalid codes, same-day cancel,
// partial/full and repeated refunds, a lost result recovered by STATUS,
// kill -9 mid-sale — run through the real daemon path: the ECR protocol on
// a loopback socket, the SQLite journal, the Alipay client, the gateway and
// the receipt printer.
//
// Against the sandbox every case runs unattended (scenario codes pick the
// gateway's behaviour); against the configured gateway a person is asked,
// with a timeout per step, to show real payment codes, and every test
// payment is refunded at the end. Pre-flight checks (keys, swapped key
// pair, sign/verify round trip, partner id, extend_info, clock offset,
// devices) run before any money moves.
//
// The daemon's gateway URL points at a recording proxy, so the report
// shows each request and answer as it crossed the wire (signatures and
// buyer codes masked). The report is written as text, JSON and a
// self-contained HTML page with an SVG timeline per case, the journal's
// states, the receipt picture and the ledger check (docs/validation.md).
package validate
