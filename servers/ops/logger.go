package ops

import (
	"context"
	"fmt"
	"io"
	"os"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LoggerOptions configure NewLogger. The zero value is a JSON logger at info
// level writing to stderr.
type LoggerOptions struct {
	Level zapcore.Level
	// Format is "json" (default) or "console" (development: coloured, human
	// readable, with stack traces on warnings).
	Format string
	// Output defaults to os.Stderr.
	Output io.Writer
	// Fields are added to every entry, e.g. zap.String("service", "api").
	Fields []zap.Field
}

// NewLogger returns a zap logger. JSON entries carry "ts" (ISO 8601),
// "level", "logger", "caller", "msg" and snake_case fields.
func NewLogger(opts *LoggerOptions) (*zap.Logger, error) {
	var o LoggerOptions
	if opts != nil {
		o = *opts
	}
	out := zapcore.Lock(os.Stderr)
	if o.Output != nil {
		out = zapcore.Lock(zapcore.AddSync(o.Output))
	}
	var enc zapcore.Encoder
	zopts := []zap.Option{zap.AddCaller(), zap.ErrorOutput(out)}
	switch o.Format {
	case "", "json":
		ec := zap.NewProductionEncoderConfig()
		ec.TimeKey = "ts"
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		ec.EncodeDuration = zapcore.MillisDurationEncoder
		enc = zapcore.NewJSONEncoder(ec)
		zopts = append(zopts, zap.AddStacktrace(zapcore.ErrorLevel))
	case "console":
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeLevel = zapcore.CapitalColorLevelEncoder
		ec.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		enc = zapcore.NewConsoleEncoder(ec)
		zopts = append(zopts, zap.AddStacktrace(zapcore.WarnLevel), zap.Development())
	default:
		return nil, fmt.Errorf("ops: log format %q: %w", o.Format, ErrInvalid)
	}
	l := zap.New(zapcore.NewCore(enc, out, zap.NewAtomicLevelAt(o.Level)), zopts...)
	if len(o.Fields) > 0 {
		l = l.With(o.Fields...)
	}
	return l, nil
}

// WithLogger returns ctx carrying l (and the request id it carried): Logger
// returns l from then on.
func WithLogger(ctx context.Context, l *zap.Logger) context.Context {
	ri := &requestInfo{logger: l}
	if in := requestInfoOf(ctx); in != nil {
		ri.id = in.id
	}
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

// Logger returns the logger of ctx: the one set with WithLogger, or, in a
// request given an id by the RequestID middleware, a logger derived from
// its base with request_id, trace_id and span_id fields; else a no-op
// logger. Handlers log through it so that their lines join the access log.
func Logger(ctx context.Context) *zap.Logger {
	ri := requestInfoOf(ctx)
	switch {
	case ri == nil:
		return zap.NewNop()
	case ri.logger != nil:
		return ri.logger
	case ri.base != nil:
		return ri.base.With(append([]zap.Field{zap.String("request_id", ri.id)}, TraceFields(ctx)...)...)
	}
	return zap.NewNop()
}

// TraceFields returns trace_id and span_id of ctx's span, if it has one.
func TraceFields(ctx context.Context) []zap.Field {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return nil
	}
	return []zap.Field{zap.String("trace_id", sc.TraceID().String()), zap.String("span_id", sc.SpanID().String())}
}
