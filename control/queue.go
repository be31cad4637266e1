package control

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/queue"
)

// StateOpen selects every operation the engine still works on (queue list
// --state open).
const StateOpen = "open"

// listFilter reads the queue list query: state (comma-separated, "open"
// for every non-final state), lane, kind, since, until (RFC 3339), limit.
func listFilter(r *http.Request) (queue.Filter, error) {
	q := r.URL.Query()
	f := queue.Filter{Lane: q.Get("lane"), Kind: queue.Kind(q.Get("kind")), Order: queue.NewestFirst}
	if f.Kind != "" && f.Kind != queue.KindSale && f.Kind != queue.KindRefund {
		return f, Errorf(CodeInvalid, "kind %q: want sale or refund", f.Kind)
	}
	states, err := parseStates(q.Get("state"))
	if err != nil {
		return f, err
	}
	f.States = states
	if f.Since, err = queryTime(r, "since"); err != nil {
		return f, err
	}
	if f.Until, err = queryTime(r, "until"); err != nil {
		return f, err
	}
	f.Limit, err = queryInt(r, "limit")
	return f, err
}

// parseStates reads a comma-separated state list.
func parseStates(v string) ([]queue.State, error) {
	var out []queue.State
	for _, s := range strings.Split(v, ",") {
		s = strings.ToLower(strings.TrimSpace(s))
		switch {
		case s == "":
		case s == StateOpen:
			out = append(out, openStates()...)
		case queue.State(s).Valid():
			out = append(out, queue.State(s))
		default:
			return nil, Errorf(CodeInvalid, "state %q: want open or one of %s", s, stateNames())
		}
	}
	return out, nil
}

func stateNames() string {
	var names []string
	for _, s := range queue.States() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// journal returns the journal when the request's parameters were good
// (paramErr nil) and the journal is available; otherwise it writes the
// error answer and returns false.
func (s *server) journal(w http.ResponseWriter, r *http.Request, paramErr error) (Journal, bool) {
	if paramErr != nil {
		s.writeErr(w, r, paramErr)
		return nil, false
	}
	eng, err := s.b.Journal()
	if err != nil {
		s.writeErr(w, r, err)
		return nil, false
	}
	return eng, true
}

func (s *server) handleQueueList(w http.ResponseWriter, r *http.Request) {
	f, err := listFilter(r)
	eng, ok := s.journal(w, r, err)
	if !ok {
		return
	}
	out, err := listViews(r.Context(), eng, f)
	s.reply(w, r, out, err)
}

func (s *server) handleQueueShow(w http.ResponseWriter, r *http.Request) {
	eng, ok := s.journal(w, r, nil)
	if !ok {
		return
	}
	d, err := opDetail(r.Context(), eng, r.PathValue("id"))
	s.reply(w, r, d, err)
}

// opDetail reads an operation, its events and its refunds.
func opDetail(ctx context.Context, eng Journal, id string) (OpDetail, error) {
	op, err := eng.Get(ctx, id)
	if err != nil {
		return OpDetail{}, err
	}
	evs, err := eng.Events(ctx, id)
	if err != nil {
		return OpDetail{}, err
	}
	d := OpDetail{Op: newOpView(op), Events: make([]EventView, 0, len(evs))}
	for _, e := range evs {
		d.Events = append(d.Events, newEventView(e))
	}
	if op.Kind == queue.KindSale {
		refunds, err := eng.Refunds(ctx, id)
		if err != nil {
			return OpDetail{}, err
		}
		for _, rf := range refunds {
			d.Refunds = append(d.Refunds, newOpView(rf))
		}
	}
	return d, nil
}

func (s *server) handleQueueRetry(w http.ResponseWriter, r *http.Request) {
	eng, ok := s.journal(w, r, nil)
	if !ok {
		return
	}
	op, err := eng.RetryNow(r.Context(), r.PathValue("id"))
	if err == nil {
		s.log.Info().Str("op", op.ID).Str("state", string(op.State)).Msg("operator asked for a retry now")
	}
	s.reply(w, r, newOpView(op), err)
}

func (s *server) handleQueueResolve(w http.ResponseWriter, r *http.Request) {
	var req ResolveRequest
	eng, ok := s.journal(w, r, decodeBody(r, &req))
	if !ok {
		return
	}
	id := r.PathValue("id")
	cur, err := eng.Get(r.Context(), id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	final, err := resolveState(cur.Kind, req.State)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	op, err := eng.Resolve(r.Context(), id, final, req.Reason, req.Operator)
	if err == nil {
		s.log.Warn().Str("op", op.ID).Str("state", string(op.State)).Str("operator", req.Operator).
			Str("reason", req.Reason).Msg("operation resolved by hand")
	}
	s.reply(w, r, newOpView(op), err)
}

// resolveState maps the CLI's words to the journal's final states: a
// refund's "declined" is refund_declined.
func resolveState(kind queue.Kind, v string) (queue.State, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	allowed := map[queue.Kind]map[string]queue.State{
		queue.KindSale: {"paid": queue.StatePaid, "declined": queue.StateDeclined,
			"cancelled": queue.StateCancelled, "voided": queue.StateVoided},
		queue.KindRefund: {"refunded": queue.StateRefunded, "declined": queue.StateRefundDeclined,
			"refund_declined": queue.StateRefundDeclined},
	}[kind]
	if st, ok := allowed[v]; ok {
		return st, nil
	}
	if kind == queue.KindRefund {
		return "", Errorf(CodeInvalid, "a refund resolves to refunded or declined, not %q", v)
	}
	return "", Errorf(CodeInvalid, "a sale resolves to paid, declined, cancelled or voided, not %q", v)
}

func (s *server) handleExport(w http.ResponseWriter, r *http.Request) {
	from, to, format, err := exportParams(r)
	eng, ok := s.journal(w, r, err)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", map[queue.ExportFormat]string{queue.ExportCSV: "text/csv; charset=utf-8",
		queue.ExportJSON: "application/json"}[format])
	streamError(w, eng.Export(r.Context(), w, from, to, format))
}

// exportParams reads from (required), to (default: now) and format (csv or
// json, default json).
func exportParams(r *http.Request) (from, to time.Time, format queue.ExportFormat, err error) {
	if from, err = queryTime(r, "from"); err != nil {
		return
	}
	if from.IsZero() {
		err = Errorf(CodeInvalid, "from is required")
		return
	}
	if to, err = queryTime(r, "to"); err != nil {
		return
	}
	if to.IsZero() {
		to = time.Now().Add(time.Minute)
	}
	format = queue.ExportFormat(strings.ToLower(r.URL.Query().Get("format")))
	if format == "" {
		format = queue.ExportJSON
	}
	if format != queue.ExportCSV && format != queue.ExportJSON {
		err = Errorf(CodeInvalid, "format %q: want csv or json", format)
	}
	return
}
