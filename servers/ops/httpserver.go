package ops

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/servers/config"
)

// Defaults of HTTPServerOptions: every server reads a request's headers
// within 5 s and the whole request within 10 s, writes its answer within
// 15 s, and refuses request headers over 16 KiB with 431.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 15 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 16 << 10
)

// HTTPServerOptions tune NewHTTPServer. The zero value is valid.
type HTTPServerOptions struct {
	Logger *zap.Logger // nil: no logging
	// The http.Server's timeouts and header limit (defaults above). A slow
	// client is disconnected when its headers or its body take longer than
	// ReadHeaderTimeout or ReadTimeout; net/http answers headers over
	// MaxHeaderBytes with 431.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
	// Health, if set, is put in draining state when Stop begins, so /readyz
	// fails while in-flight requests finish.
	Health *Health
	// OnError is called if serving fails after Start (not on a normal
	// shutdown), e.g. to stop the application.
	OnError func(error)

	// Tracing, when set, starts a server span per request
	// (Tracing.HTTPHandler, named after the server).
	Tracing *Tracing
	// Metrics, when set, records every request's RED metrics labelled
	// with the server's name (as Metrics.Middleware does).
	Metrics *Metrics
	// AccessLog tunes the access log written to Logger (nil: probes
	// skipped, SampleFirst DefaultAccessLogFirst and SampleThereafter
	// DefaultAccessLogThereafter); NoAccessLog turns it off.
	AccessLog   *AccessLogOptions
	NoAccessLog bool
}

// HTTPServer is the lifecycle of one HTTP listener: Start listens (so a bad
// or busy address fails start-up) and serves in a goroutine; Stop shuts down
// gracefully within its context's deadline. It is every vidlib server's
// listener (api, sync, admin, metrics), and it puts the same middleware
// around each handler, outermost first: the tracing span (Tracing), the
// request id and request-scoped logger (RequestID), the access log and RED
// metrics (one wrapper), and JSON errors for what the handler left plain.
type HTTPServer struct {
	name string
	addr string
	srv  *http.Server
	opts HTTPServerOptions
	log  *zap.Logger

	mu    sync.Mutex
	ln    net.Listener
	done  chan struct{}
	bound string
}

// NewHTTPServer returns a server named name (for logs) that will listen on
// addr (host:port; ":0" picks a free port, see Addr) and serve h.
func NewHTTPServer(name, addr string, h http.Handler, opts *HTTPServerOptions) *HTTPServer {
	var o HTTPServerOptions
	if opts != nil {
		o = *opts
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&o.ReadTimeout, DefaultReadTimeout)
	def(&o.WriteTimeout, DefaultWriteTimeout)
	def(&o.IdleTimeout, DefaultIdleTimeout)
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	hlog := log.Named("http").With(zap.String("server", name))
	return &HTTPServer{
		name: name, addr: addr, opts: o, log: hlog,
		srv: &http.Server{
			Handler:           serverHandler(name, h, log, &o),
			ReadHeaderTimeout: o.ReadHeaderTimeout,
			ReadTimeout:       o.ReadTimeout,
			WriteTimeout:      o.WriteTimeout,
			IdleTimeout:       o.IdleTimeout,
			MaxHeaderBytes:    o.MaxHeaderBytes,
			ErrorLog:          zap.NewStdLog(hlog.WithOptions(zap.IncreaseLevel(zap.WarnLevel))),
		},
	}
}

// ServerHandler is h inside the middleware an HTTPServer made with opts
// puts around it (tracing, request id, access log and RED metrics, JSON
// errors; logging to log, nil: none): for serving or benchmarking a handler
// in process exactly as it is deployed, without a listener.
func ServerHandler(name string, h http.Handler, log *zap.Logger, opts *HTTPServerOptions) http.Handler {
	var o HTTPServerOptions
	if opts != nil {
		o = *opts
	}
	if log == nil {
		log = zap.NewNop()
	}
	return serverHandler(name, h, log, &o)
}

// serverHandler is h inside the middleware every server shares (see
// HTTPServer).
func serverHandler(name string, h http.Handler, log *zap.Logger, o *HTTPServerOptions) http.Handler {
	var alog *accessLog
	if !o.NoAccessLog {
		ao := o.AccessLog
		if ao == nil {
			ao = &AccessLogOptions{Skip: SkipProbes, SampleFirst: DefaultAccessLogFirst, SampleThereafter: DefaultAccessLogThereafter}
		}
		alog = newAccessLog(log, ao)
	}
	h = observe(o.Metrics, name, alog)(JSONErrors(h))
	h = RequestID(log)(h)
	if o.Tracing != nil {
		h = o.Tracing.HTTPHandler(h, name)
	}
	return h
}

// Start listens on the address and serves in a goroutine. It fails if the
// address cannot be bound. ctx is not used beyond the listen call.
func (s *HTTPServer) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return fmt.Errorf("ops: %s server already started", s.name)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("%s server: listen on %q: %w", s.name, s.addr, err)
	}
	s.ln, s.bound, s.done = ln, ln.Addr().String(), make(chan struct{})
	s.log.Info("listening", zap.String("addr", s.bound))
	go func(done chan struct{}) {
		defer close(done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve failed", zap.Error(err))
			if s.opts.OnError != nil {
				s.opts.OnError(fmt.Errorf("%s server: %w", s.name, err))
			}
		}
	}(s.done)
	return nil
}

// Stop stops accepting connections and waits for in-flight requests to
// finish, until ctx is done; then it closes the remaining connections and
// returns ctx's error. A server never started stops at once.
func (s *HTTPServer) Stop(ctx context.Context) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return nil
	}
	if s.opts.Health != nil {
		s.opts.Health.SetDraining()
	}
	s.log.Info("draining")
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
		err = fmt.Errorf("%s server: shutdown: %w", s.name, err)
		s.log.Warn("in-flight requests cut at the shutdown deadline", zap.Error(err))
	}
	<-done
	s.log.Info("stopped")
	return err
}

// Addr is the bound address after Start (useful with ":0"), else the
// configured one.
func (s *HTTPServer) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound != "" {
		return s.bound
	}
	return s.addr
}

// Name is the server's name.
func (s *HTTPServer) Name() string { return s.name }

// WithLimits returns opts (nil: new options) with the timeouts and the
// header limit of cfg, the settings every vidlib server shares.
func WithLimits(cfg config.HTTP, opts *HTTPServerOptions) *HTTPServerOptions {
	var o HTTPServerOptions
	if opts != nil {
		o = *opts
	}
	o.ReadHeaderTimeout, o.ReadTimeout, o.WriteTimeout = cfg.ReadHeaderTimeout, cfg.ReadTimeout, cfg.WriteTimeout
	o.MaxHeaderBytes = cfg.MaxHeaderBytes
	return &o
}
