package ops

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Level is the process's log level. Loggers made by NewLogger read it on
// every record, so changing it (PUT /api/v1/ops/log-level, or the
// --log-level flag at start) takes effect at once for every node the
// process runs. It is process-wide on purpose: a process has one stderr.
var Level = new(slog.LevelVar)

// NewLogger answers a text (or JSON-lines) logger on w at Level.
func NewLogger(w io.Writer, asJSON bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: Level}
	if asJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ParseLevel reads debug, info, warn or error (any case; also slog's
// offsets such as "info+2").
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("ops: log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// WithAttr wraps h so that every record also carries key=fn(), evaluated
// when the record is logged (a raft term, which changes over a node's
// life). fn answering the zero Value adds nothing.
func WithAttr(h slog.Handler, key string, fn func() slog.Value) slog.Handler {
	return &attrHandler{Handler: h, key: key, fn: fn}
}

type attrHandler struct {
	slog.Handler
	key string
	fn  func() slog.Value
}

func (h *attrHandler) Handle(ctx context.Context, r slog.Record) error {
	if v := h.fn(); !v.Equal(slog.Value{}) {
		r = r.Clone()
		r.AddAttrs(slog.Attr{Key: h.key, Value: v})
	}
	return h.Handler.Handle(ctx, r)
}

func (h *attrHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrHandler{Handler: h.Handler.WithAttrs(as), key: h.key, fn: h.fn}
}

func (h *attrHandler) WithGroup(name string) slog.Handler {
	return &attrHandler{Handler: h.Handler.WithGroup(name), key: h.key, fn: h.fn}
}
