// Package ecrproto is the wire protocol between cash-register (ECR)
// software and the tillbridge daemon: messages, two encodings, a server, a
// client and the transports they run on.
//
// The full contract for ECR writers is docs/ecr-protocol.md. In short:
//
//   - Message is one message of either encoding; Validate checks a request
//     and names the offending field.
//   - JSON lines: one JSON object per line (AppendJSON, DecodeJSON,
//     JSONReader).
//   - Legacy frames: STX payload ETX LRC, fields name=value separated by FS,
//     ACK/NAK with retransmission (AppendFields, DecodeFields, AppendFrame,
//     FrameReader).
//   - Server answers requests on any net.Listener through a Handler, one
//     goroutine per request (at most MaxInFlight per connection), and
//     answers HELLO, PING and refusals itself through a per-connection
//     queue, so pipelined requests are all answered; the encoding of each
//     connection is chosen by its first byte. An id is free again once its
//     final answer is written; a request reusing the id of one in flight
//     is refused with an ERROR carrying dup_id and no id. Fields a request
//     type does not use (RequestFields) are ignored. Before a
//     connection's first valid request, an HTTP line (a browser on the
//     till) closes it unanswered and undecodable input closes it after
//     E_FORMAT. Echoed and logged client values are cut to MaxEcho bytes,
//     answers waiting for a client that does not read are bounded
//     (MaxOutput), and bad input is logged as one warning per peer per
//     interval.
//   - Listen opens the transports: TCP on loopback (remote only with a
//     shared key), a unix socket, or a Windows named pipe with an explicit
//     security descriptor. A listener with a shared key (RequireKeyWith)
//     is remote: HELLO deadline, per-listener and per-peer caps, a delay
//     after failed HELLOs, and never the slots kept for local listeners
//     (ServerOptions.LocalReserve).
//   - Client (Dial) speaks either encoding; the tillbridge CLI and the
//     tests use it.
//
// Errors a peer should hear about are *Error values carrying an ERROR
// code; Reply turns one into the ERROR message.
package ecrproto
