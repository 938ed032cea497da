package ops

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/vidlib/vidlib/events"
)

// TracingOptions configure NewTracing. The zero value turns tracing off.
type TracingOptions struct {
	// Endpoint of the OTLP/HTTP collector: an http(s) URL
	// ("https://collector:4318", path /v1/traces by default) or host:port,
	// which means plain HTTP. Empty: tracing off; no exporter is created.
	Endpoint string
	// Exporter replaces the OTLP exporter (tests); setting it turns tracing on.
	Exporter sdktrace.SpanExporter
	// ServiceName is the resource's service.name (default "vidlib");
	// ServiceVersion its service.version.
	ServiceName, ServiceVersion string
	// Sampler decides which new traces are recorded (default
	// ParentBased(AlwaysSample)).
	Sampler sdktrace.Sampler
}

// Tracing is the process's tracer provider and propagator. Off, it holds a
// no-op provider: spans are not recorded, but W3C trace context from callers
// still flows through (so trace ids still reach the logs).
type Tracing struct {
	provider   trace.TracerProvider
	sdk        *sdktrace.TracerProvider // nil when off
	propagator propagation.TextMapPropagator
}

// NewTracing builds the tracing of the process. It does not contact the
// collector: spans are batched and exported in the background.
func NewTracing(ctx context.Context, opts *TracingOptions) (*Tracing, error) {
	var o TracingOptions
	if opts != nil {
		o = *opts
	}
	t := &Tracing{
		provider:   noop.NewTracerProvider(),
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	if o.Endpoint == "" && o.Exporter == nil {
		return t, nil
	}
	exp := o.Exporter
	if exp == nil {
		var eo []otlptracehttp.Option
		if strings.Contains(o.Endpoint, "://") {
			eo = append(eo, otlptracehttp.WithEndpointURL(o.Endpoint))
		} else {
			eo = append(eo, otlptracehttp.WithEndpoint(o.Endpoint), otlptracehttp.WithInsecure())
		}
		var err error
		if exp, err = otlptracehttp.New(ctx, eo...); err != nil {
			return nil, fmt.Errorf("ops: otlp exporter for %q: %w", o.Endpoint, err)
		}
	}
	if o.ServiceName == "" {
		o.ServiceName = "vidlib"
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", o.ServiceName)}
	if o.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", o.ServiceVersion))
	}
	if o.Sampler == nil {
		o.Sampler = sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
	t.sdk = sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
		sdktrace.WithSampler(o.Sampler),
	)
	t.provider = t.sdk
	return t, nil
}

// SampleRatio is the default sampler with a share of new traces: a sampled
// parent is always followed.
func SampleRatio(ratio float64) sdktrace.Sampler {
	return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))
}

// Enabled reports whether spans are exported.
func (t *Tracing) Enabled() bool { return t.sdk != nil }

// TracerProvider returns the provider (a no-op one when off).
func (t *Tracing) TracerProvider() trace.TracerProvider { return t.provider }

// Propagator returns the W3C trace-context + baggage propagator.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.propagator }

// SetGlobal installs the provider and propagator as OpenTelemetry's globals,
// for libraries that only use those. Call it once, from main.
func (t *Tracing) SetGlobal() {
	otel.SetTracerProvider(t.provider)
	otel.SetTextMapPropagator(t.propagator)
}

// ForceFlush exports the spans ended so far and waits for the exporter; a
// no-op when off.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	if err := t.sdk.ForceFlush(ctx); err != nil {
		return fmt.Errorf("ops: tracing flush: %w", err)
	}
	return nil
}

// Shutdown flushes pending spans and stops the exporter; a no-op when off.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("ops: tracing shutdown: %w", err)
	}
	return nil
}

// HTTPHandler wraps h in otelhttp: it extracts the caller's trace context and
// starts a server span per request, named "<operation> <METHOD> <route>" once
// the chi route is known. The request's context also carries the span's
// traceparent for events.New (events.ContextWithTraceParent), so events the
// request writes (an outbox row, a published webhook) continue its trace.
// Tracing off, a caller's traceparent still flows through, without otelhttp
// (no span, no wrapped writer: the request pays only for reading the trace
// headers when it has them). Put it outermost, around RequestID.
func (t *Tracing) HTTPHandler(h http.Handler, operation string) http.Handler {
	if t.sdk == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The canonical keys, looked up directly: Get would make them
			// canonical (a new string) on every request.
			if len(r.Header["Traceparent"]) > 0 || len(r.Header["Baggage"]) > 0 {
				ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
				if tp := traceParentOf(trace.SpanContextFromContext(ctx)); tp != "" {
					ctx = events.ContextWithTraceParent(ctx, tp)
				}
				r = r.WithContext(ctx)
			}
			h.ServeHTTP(w, r)
		})
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tp := traceParentOf(trace.SpanContextFromContext(r.Context())); tp != "" {
			r = r.WithContext(events.ContextWithTraceParent(r.Context(), tp))
		}
		h.ServeHTTP(w, r)
	})
	return otelhttp.NewHandler(inner, operation,
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(t.propagator),
	)
}

// HTTPTransport wraps an outbound transport (nil: http.DefaultTransport) so
// that calls carry the trace context and get client spans.
func (t *Tracing) HTTPTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(t.propagator))
}

// PgxTracer returns a pgx query tracer; set it on the pool config before
// the pool is created: cfg.ConnConfig.Tracer = tracing.PgxTracer().
func (t *Tracing) PgxTracer() *otelpgx.Tracer {
	return otelpgx.NewTracer(otelpgx.WithTracerProvider(t.provider))
}

// InstrumentRedis adds tracing hooks to a go-redis client. Off, it adds
// nothing.
func (t *Tracing) InstrumentRedis(rdb redis.UniversalClient) error {
	if !t.Enabled() {
		return nil
	}
	if err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(t.provider)); err != nil {
		return fmt.Errorf("ops: redis tracing: %w", err)
	}
	return nil
}
