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
// tracing library (OpenTelemetry: servers/ops Tracing.MessageSpan) implement
// it; this package does not depend on one. The returned context should carry
// the new span's traceparent (ContextWithTraceParent), so that events created
// while handling are its children.
type SpanStarter func(ctx context.Context, m *Message, traceparent string) (context.Context, func(err error))

// Trace continues the producer's trace in the handler: it reads the message's
// traceparent (the traceparent header, else the envelope's trace field), puts
// it in the context (TraceParent), and calls start, if not nil, around the
// handler.
//
// The header wins because it is the newer of the two: the envelope's trace is
// written once, when the event is created (New), while a tracing publisher
// (servers/ops Tracing.Publisher) sets the header on each publish to the span
// of that publish, so the consumer's span becomes its child. Where no header
// was set (an outbox row published by the relay, a dead letter replayed), the
// envelope carries the trace on.
func Trace(start SpanStarter) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) error {
			tp := m.Headers[HeaderTraceParent]
			if !validTraceParent(tp) {
				tp = ""
				if e, err := m.Event(); err == nil {
					tp = e.Trace
				}
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
