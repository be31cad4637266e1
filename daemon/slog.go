package daemon

import (
	"context"
	"log/slog"

	"github.com/rs/zerolog"
)

// slogFor returns a *slog.Logger writing into zl (the daemon's zerolog
// logger, with its redaction and outputs), tagged with a component name.
// ecrproto and queue log through log/slog; this keeps one log stream.
func slogFor(zl zerolog.Logger, component string) *slog.Logger {
	return slog.New(&zerologHandler{zl: zl.With().Str("component", component).Logger()})
}

// zerologHandler is a slog.Handler over a zerolog.Logger.
type zerologHandler struct {
	zl     zerolog.Logger
	attrs  []slog.Attr
	groups string // "a.b." prefix for keys
}

// Enabled implements slog.Handler.
func (h *zerologHandler) Enabled(_ context.Context, l slog.Level) bool {
	return h.zl.GetLevel() <= zlevel(l)
}

// Handle implements slog.Handler.
func (h *zerologHandler) Handle(_ context.Context, r slog.Record) error {
	ev := h.zl.WithLevel(zlevel(r.Level))
	if ev == nil {
		return nil
	}
	for _, a := range h.attrs {
		addAttr(ev, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		addAttr(ev, h.groups, a)
		return true
	})
	ev.Msg(r.Message)
	return nil
}

// WithAttrs implements slog.Handler.
func (h *zerologHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range attrs {
		a.Key = h.groups + a.Key
		c.attrs = append(c.attrs, a)
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *zerologHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.groups = h.groups + name + "."
	return &c
}

// addAttr writes one attribute, flattening groups into dotted keys.
func addAttr(ev *zerolog.Event, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	key := prefix + a.Key
	switch v.Kind() {
	case slog.KindGroup:
		for _, g := range v.Group() {
			addAttr(ev, key+".", g)
		}
	case slog.KindString:
		ev.Str(key, v.String())
	case slog.KindInt64:
		ev.Int64(key, v.Int64())
	case slog.KindUint64:
		ev.Uint64(key, v.Uint64())
	case slog.KindFloat64:
		ev.Float64(key, v.Float64())
	case slog.KindBool:
		ev.Bool(key, v.Bool())
	case slog.KindDuration:
		ev.Dur(key, v.Duration())
	case slog.KindTime:
		ev.Time(key, v.Time())
	default:
		if err, ok := v.Any().(error); ok {
			ev.AnErr(key, err)
			return
		}
		ev.Interface(key, v.Any())
	}
}

func zlevel(l slog.Level) zerolog.Level {
	switch {
	case l < slog.LevelDebug:
		return zerolog.TraceLevel
	case l < slog.LevelInfo:
		return zerolog.DebugLevel
	case l < slog.LevelWarn:
		return zerolog.InfoLevel
	case l < slog.LevelError:
		return zerolog.WarnLevel
	}
	return zerolog.ErrorLevel
}
