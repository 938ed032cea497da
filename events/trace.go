package events

import "context"

type traceKey struct{}

// ContextWithTraceParent returns ctx carrying a W3C traceparent. New puts it in
// the events it creates; the Trace middleware puts a consumed event's trace in
// the handler's context, so events published while handling continue it.
// An invalid traceparent is ignored.
func ContextWithTraceParent(ctx context.Context, traceparent string) context.Context {
	if !validTraceParent(traceparent) {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, traceparent)
}

// TraceParent returns the traceparent carried by ctx, or "".
func TraceParent(ctx context.Context) string {
	s, _ := ctx.Value(traceKey{}).(string)
	return s
}

// SpanStarter starts a span for a delivered message, as a child of
// traceparent when it is not empty, and returns the context to handle it in and
// a function that ends the span with the handler's result. Adapters for a
// tracing library (OpenTelemetry) implement it; vidlib does not depend on one.
type SpanStarter func(ctx context.Context, m *Message, traceparent string) (context.Context, func(err error))

// Trace continues the producer's trace in the handler: it reads the event's
// traceparent (the envelope's trace field, else the traceparent header), puts
// it in the context (TraceParent), and calls start, if not nil, around the
// handler.
func Trace(start SpanStarter) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) error {
			tp := ""
			if e, err := m.Event(); err == nil {
				tp = e.Trace
			}
			if tp == "" {
				tp = m.Headers[HeaderTraceParent]
			}
			ctx = ContextWithTraceParent(ctx, tp)
			if start == nil {
				return next(ctx, m)
			}
			ctx, end := start(ctx, m, TraceParent(ctx))
			err := next(ctx, m)
			end(err)
			return err
		}
	}
}
