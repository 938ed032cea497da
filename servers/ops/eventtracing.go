package ops

import (
	"context"
	"maps"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/vidlib/vidlib/events"
)

// tracerName names the spans this package starts.
const tracerName = "github.com/vidlib/vidlib/servers/ops"

// Publisher wraps an events.Publisher so that a message published under a
// span carries the trace on: each Publish called with a span in its context
// starts a producer span ("publish <topic>", a child of that span) and sets
// the W3C traceparent (and tracestate, baggage) headers of every message to
// it, on a copy (the caller's headers are not changed). A Publish without a
// span in its context (the outbox relay) is passed through unchanged: the
// envelope's trace field carries the writer's trace. system names the bus in
// the messaging.system attribute ("kafka", "membus"). Tracing off: p itself.
func (t *Tracing) Publisher(p events.Publisher, system string) events.Publisher {
	if !t.Enabled() {
		return p
	}
	return &tracedPublisher{next: p, system: system, tracer: t.provider.Tracer(tracerName), prop: t.propagator}
}

type tracedPublisher struct {
	next   events.Publisher
	system string
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

func (p *tracedPublisher) Publish(ctx context.Context, msgs ...events.Message) error {
	if len(msgs) == 0 || !trace.SpanContextFromContext(ctx).IsValid() {
		return p.next.Publish(ctx, msgs...)
	}
	topic := msgs[0].Topic
	for _, m := range msgs[1:] {
		if m.Topic != topic {
			topic = ""
			break
		}
	}
	name := "publish"
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", p.system),
		attribute.String("messaging.operation.type", "send"),
		attribute.String("messaging.operation.name", "publish"),
	}
	if topic != "" {
		name += " " + topic
		attrs = append(attrs, attribute.String("messaging.destination.name", topic))
	}
	if len(msgs) > 1 {
		attrs = append(attrs, attribute.Int("messaging.batch.message_count", len(msgs)))
	} else if id := msgs[0].Headers[events.HeaderEventID]; id != "" {
		attrs = append(attrs, attribute.String("messaging.message.id", id))
	}
	ctx, span := p.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	defer span.End()
	carrier := propagation.MapCarrier{}
	p.prop.Inject(ctx, carrier)
	out := make([]events.Message, len(msgs))
	for i := range msgs {
		out[i] = msgs[i]
		h := make(map[string]string, len(msgs[i].Headers)+len(carrier))
		maps.Copy(h, msgs[i].Headers)
		maps.Copy(h, carrier)
		out[i].Headers = h
	}
	err := p.next.Publish(ctx, out...)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// MessageSpan returns the events.SpanStarter of consumer group (for
// events.Trace, syncworker.ConsumerOptions.StartSpan): a consumer span
// "process <topic>" per delivered message, a child of the producer's
// traceparent (a new trace without one), covering the handler with its
// retries and ending with its result (an error status if the bus will deliver
// the message again; the attribute vidlib.outcome says when it was
// dead-lettered or a duplicate). The handler's context carries the span, for
// otelpgx, redisotel and Publisher, and its traceparent for events.New, so
// what the handler publishes is the span's child. Tracing off: nil (events.Trace
// then only carries the producer's traceparent on).
func (t *Tracing) MessageSpan(group, system string) events.SpanStarter {
	if !t.Enabled() {
		return nil
	}
	tracer := t.provider.Tracer(tracerName)
	return func(ctx context.Context, m *events.Message, parent string) (context.Context, func(error)) {
		if parent != "" {
			carrier := propagation.MapCarrier{"traceparent": parent}
			if m.Headers[events.HeaderTraceParent] == parent {
				for _, k := range []string{"tracestate", "baggage"} {
					if v, ok := m.Headers[k]; ok {
						carrier[k] = v
					}
				}
			}
			ctx = t.propagator.Extract(ctx, carrier)
		}
		attrs := []attribute.KeyValue{
			attribute.String("messaging.system", system),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", m.Topic),
			attribute.String("messaging.consumer.group.name", group),
			attribute.Int("messaging.destination.partition.id", m.Partition),
			attribute.Int64("messaging.kafka.offset", m.Offset),
			attribute.Int("vidlib.delivery", m.Delivery),
		}
		if id := m.Headers[events.HeaderEventID]; id != "" {
			attrs = append(attrs, attribute.String("messaging.message.id", id))
		}
		ctx, span := tracer.Start(ctx, "process "+m.Topic, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
		ctx = events.ContextWithTraceParent(ctx, traceParentOf(span.SpanContext()))
		return ctx, func(err error) {
			if o := m.Outcome(); o != "" {
				span.SetAttributes(attribute.String("vidlib.outcome", string(o)))
			}
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
	}
}

// traceParentOf formats sc as a W3C traceparent ("" when sc is invalid).
func traceParentOf(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), c)
	return c["traceparent"]
}
