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

type loggerKey struct{}

// WithLogger returns ctx carrying l.
func WithLogger(ctx context.Context, l *zap.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the request-scoped logger put in ctx by the RequestID
// middleware (with request_id, trace_id and span_id fields), or a no-op
// logger. Handlers log through it so that their lines join the access log.
func Logger(ctx context.Context) *zap.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*zap.Logger); ok && l != nil {
		return l
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
