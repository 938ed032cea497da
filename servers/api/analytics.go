package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/ops"
)

// Defaults of AnalyticsOptions.
const (
	DefaultSessionTTL            = 6 * time.Hour
	DefaultMaxEventBatch         = 500
	DefaultAnalyticsMaxBodyBytes = 1 << 20
	DefaultEventRate             = 50   // events per second per user
	DefaultEventBurst            = 2000 // events
)

// AnalyticsOptions switch on playback sessions and POST /analytics/events.
// With a nil Publisher analytics is off: playback answers carry no session
// and the analytics routes are not mounted.
type AnalyticsOptions struct {
	// Publisher receives accepted events on analytics.events (keyed by user)
	// before the API answers 202; Tokens mints and verifies the playback
	// session tokens. Both are required together.
	Publisher events.Publisher
	Tokens    *analytics.Tokens
	// Progress, if set, serves resume positions and /me/continue-watching,
	// /me/history.
	Progress ProgressStore
	// ProgressVersions, if set with Progress, lets each instance keep users'
	// unfinished videos, up to ProgressCacheRows rows in all (default
	// DefaultProgressCacheRows; negative: none), and serve the home's
	// continue-watching row, /me/continue-watching and resume positions from
	// that copy while the user's version is unchanged: one Redis round trip
	// instead of a PostgreSQL query. The analytics consumer bumps a user's
	// version after it stores new progress, and a dismissal bumps it here.
	// When the versions cannot be read, requests read Progress directly.
	ProgressVersions  ProgressVersions
	ProgressCacheRows int
	// Rules are the resume rules (zero: analytics defaults).
	Rules analytics.Rules
	// SessionTTL is a playback session token's lifetime (default DefaultSessionTTL).
	SessionTTL time.Duration
	// ClockSkew, MaxAge and PositionSlack bound occurred-at and positions
	// (zero: analytics.DefaultClockSkew, DefaultMaxAge, DefaultPositionSlack).
	ClockSkew     time.Duration
	MaxAge        time.Duration
	PositionSlack float64
	// MaxBatch is the most events in one request (default DefaultMaxEventBatch;
	// more is 413); MaxBodyBytes the largest body of the route (default
	// DefaultAnalyticsMaxBodyBytes).
	MaxBatch     int
	MaxBodyBytes int64
	// EventRate and EventBurst limit each user's events (defaults above;
	// negative EventRate: no limit). Over it the whole batch is 429.
	EventRate  float64
	EventBurst int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o *AnalyticsOptions) withDefaults() error {
	if o.Publisher == nil {
		return nil
	}
	if o.Tokens == nil {
		return fmt.Errorf("%w: analytics needs session Tokens with its Publisher", ErrInvalid)
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxEventBatch
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultAnalyticsMaxBodyBytes
	}
	if o.EventRate == 0 {
		o.EventRate = DefaultEventRate
	}
	if o.EventBurst == 0 {
		o.EventBurst = DefaultEventBurst
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ProgressCacheRows == 0 {
		o.ProgressCacheRows = DefaultProgressCacheRows
	}
	if o.SessionTTL < 0 || o.MaxBatch < 0 || o.MaxBodyBytes < 0 || o.EventBurst < 0 || o.ClockSkew < 0 || o.MaxAge < 0 {
		return fmt.Errorf("%w: negative analytics limit", ErrInvalid)
	}
	o.Rules = o.Rules.WithDefaults()
	return nil
}

func (o *AnalyticsOptions) enabled() bool { return o.Publisher != nil }

// ProgressStore is what the API reads of resume state (store/pgstore,
// store/memstore).
type ProgressStore interface {
	// Progress returns the user's progress on the videos (missing: none).
	Progress(ctx context.Context, userID string, videoIDs ...string) (map[string]analytics.Progress, error)
	// Unfinished returns up to limit progress rows of the user, newest last
	// event first: those not completed with a position > 0, dismissed or not.
	Unfinished(ctx context.Context, userID string, limit int) ([]analytics.Progress, error)
	// DismissContinueWatching hides the video from continue watching until
	// it is played again (an event after at).
	DismissContinueWatching(ctx context.Context, userID, videoID string, at time.Time) error
	// History returns the user's videos by last event, newest first, those
	// with a last event before (before, beforeVideo) when before is set.
	History(ctx context.Context, userID string, before time.Time, beforeVideo string, limit int) ([]analytics.Progress, error)
}

// ingestEvent is one event of a POST /analytics/events body.
type ingestEvent struct {
	ID           string            `json:"event_id"`
	Type         analytics.Type    `json:"type"`
	SessionID    string            `json:"session_id"`
	SessionToken string            `json:"session_token"`
	VideoID      string            `json:"video_id"`
	Position     float64           `json:"position_seconds"`
	OccurredAt   time.Time         `json:"occurred_at"`
	Properties   map[string]string `json:"properties,omitempty"`
}

type ingestBody struct {
	Events []json.RawMessage `json:"events"`
}

// EventResult is the outcome of one event in a 202 answer.
type EventResult struct {
	EventID string           `json:"event_id"`
	Status  string           `json:"status"` // "accepted" or "rejected"
	Reason  analytics.Reason `json:"reason,omitempty"`
}

// IngestResponse is the 202 answer of POST /analytics/events.
type IngestResponse struct {
	Accepted int           `json:"accepted"`
	Rejected int           `json:"rejected"`
	Results  []EventResult `json:"results"`
}

// EventSource is the envelope source of ingested events.
const EventSource = "vidlib/api"

type videoCheck struct {
	duration float64
	visible  bool
}

func (s *Server) ingest(w http.ResponseWriter, r *http.Request) {
	a := &s.opts.Analytics
	v, _ := viewerFrom(r)
	if !s.lib.Ready() {
		s.fail(w, r, library.ErrNotReady) // no event can be checked yet: retry, nothing is lost
		return
	}
	var body ingestBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, r, http.StatusRequestEntityTooLarge, "body_too_large", "request body too large")
			return
		}
		writeError(w, r, http.StatusBadRequest, "invalid_argument", "the body must be {\"events\":[…]}")
		return
	}
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		writeError(w, r, http.StatusRequestEntityTooLarge, "body_too_large", "request body too large")
		return
	}
	if len(body.Events) == 0 {
		writeError(w, r, http.StatusBadRequest, "invalid_argument", "events must not be empty")
		return
	}
	if len(body.Events) > a.MaxBatch {
		writeError(w, r, http.StatusRequestEntityTooLarge, "batch_too_large", fmt.Sprintf("at most %d events per request", a.MaxBatch))
		return
	}
	if s.eventLimiter != nil {
		lim := s.eventLimiter.get(v.UserID)
		now := time.Now()
		res := lim.ReserveN(now, len(body.Events))
		if d := res.DelayFrom(now); !res.OK() || d > 0 {
			res.CancelAt(now)
			secs := 1
			if res.OK() && d != rate.InfDuration {
				secs = max(1, int(math.Ceil(d.Seconds())))
			}
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, r, http.StatusTooManyRequests, "rate_limited", "too many events; slow down")
			return
		}
	}

	now := a.Now()
	resp := IngestResponse{Results: make([]EventResult, len(body.Events))}
	videos := map[string]videoCheck{}
	claims := map[string]analytics.SessionClaims{}
	var accepted []analytics.Event
	for i, raw := range body.Events {
		var in ingestEvent
		res := &resp.Results[i]
		if err := json.Unmarshal(raw, &in); err != nil {
			res.Status, res.Reason = "rejected", analytics.ReasonInvalid
			var probe struct {
				ID string `json:"event_id"`
			}
			_ = json.Unmarshal(raw, &probe)
			res.EventID = probe.ID
			continue
		}
		res.EventID = in.ID
		e := analytics.Event{ID: in.ID, Type: in.Type, SessionID: in.SessionID, UserID: v.UserID, VideoID: in.VideoID,
			Position: in.Position, OccurredAt: in.OccurredAt.UTC().Truncate(time.Microsecond), ReceivedAt: now.UTC().Truncate(time.Microsecond), Properties: in.Properties}
		reason := s.checkEvent(r.Context(), v, &e, in.SessionToken, now, videos, claims)
		if reason != "" {
			res.Status, res.Reason = "rejected", reason
			continue
		}
		accepted = append(accepted, e)
		res.Status = "accepted"
	}
	for _, res := range resp.Results {
		if res.Status == "accepted" {
			resp.Accepted++
		} else {
			resp.Rejected++
		}
	}
	if len(accepted) > 0 {
		if err := s.publishBatch(r.Context(), v.UserID, accepted); err != nil {
			// Nothing is acknowledged: the client retries the batch, and the
			// event ids make that safe.
			s.log.Error("analytics publish failed", zap.Int("events", len(accepted)), zap.String("request_id", ops.RequestIDFrom(r)), zap.Error(err))
			w.Header().Set("Retry-After", "1")
			writeError(w, r, http.StatusServiceUnavailable, "unavailable", "events not stored; retry the batch")
			return
		}
	}
	writeJSON(w, http.StatusAccepted, resp)
}

// publishBatch publishes the accepted events of one request as one
// analytics.batch envelope keyed by user, and returns once the bus has it
// (Kafka: acks=all).
func (s *Server) publishBatch(ctx context.Context, userID string, evs []analytics.Event) error {
	m, err := BatchMessage(ctx, userID, evs)
	if err != nil {
		return err
	}
	return s.opts.Analytics.Publisher.Publish(ctx, m)
}

// BatchMessage is the analytics.events message of one ingest request's
// accepted events: an analytics.batch envelope keyed by user.
func BatchMessage(ctx context.Context, userID string, evs []analytics.Event) (events.Message, error) {
	env, err := events.New(ctx, events.Event{Type: analytics.EventTypeBatch, Source: EventSource,
		Subject: "user:" + userID, Key: "user:" + userID}, analytics.Batch{Events: evs})
	if err != nil {
		return events.Message{}, err
	}
	return env.Message(events.TopicAnalytics)
}

// checkEvent runs every check of one event and returns the reason of the
// first that fails ("" when it is accepted).
func (s *Server) checkEvent(ctx context.Context, v library.Viewer, e *analytics.Event, token string, now time.Time,
	videos map[string]videoCheck, claims map[string]analytics.SessionClaims) analytics.Reason {
	a := &s.opts.Analytics
	if err := e.Validate(); err != nil {
		return analytics.ReasonOf(err)
	}
	c, ok := claims[token]
	if !ok {
		var err error
		if c, err = a.Tokens.Verify(token, now); err != nil {
			return analytics.ReasonOf(err)
		}
		claims[token] = c
	}
	if err := c.Bind(e); err != nil {
		return analytics.ReasonOf(err)
	}
	vc, ok := videos[e.VideoID]
	if !ok {
		d, err := s.lib.Video(ctx, v, e.VideoID)
		vc.visible = err == nil && !d.Locked // a teaser-locked video is not watchable
		if d != nil {
			vc.duration = float64(d.DurationSeconds)
		}
		videos[e.VideoID] = vc
	}
	if !vc.visible {
		return analytics.ReasonVideoNotVisible
	}
	err := e.Check(analytics.Window{Now: now, ClockSkew: a.ClockSkew, MaxAge: a.MaxAge,
		DurationSeconds: vc.duration, PositionSlack: a.PositionSlack})
	return analytics.ReasonOf(err)
}

// PlaybackSession is the analytics part of a playback answer: the session
// the player reports events for, its token, and where to resume.
type PlaybackSession struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// PlaybackResponse is GET /videos/{id}/playback with analytics on.
type PlaybackResponse struct {
	*library.Playback
	Session               PlaybackSession `json:"session"`
	ResumePositionSeconds float64         `json:"resume_position_seconds"`
}

func (s *Server) playbackSession(w http.ResponseWriter, r *http.Request) {
	a := &s.opts.Analytics
	v, _ := viewerFrom(r)
	if v.Anonymous { // no user to attach a session to: the embed alone
		s.playback(w, r)
		return
	}
	p, err := s.lib.Playback(r.Context(), v, chi.URLParam(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sid, err := uuid.NewV7()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	exp := a.Now().Add(a.SessionTTL).UTC().Truncate(time.Second)
	tok := a.Tokens.Mint(analytics.SessionClaims{UserID: v.UserID, VideoID: p.VideoID, SessionID: sid.String(), Expires: exp})
	resp := PlaybackResponse{Playback: p, Session: PlaybackSession{ID: sid.String(), Token: tok, ExpiresAt: exp}}
	resp.ResumePositionSeconds = s.resumeAt(r.Context(), v, p.VideoID)
	w.Header().Set("Cache-Control", cacheNone)
	writeJSON(w, http.StatusOK, resp)
}

// resumeAt is the viewer's resume position on a video (0 when unknown or
// when the progress store fails: resume is best effort, playback is not).
func (s *Server) resumeAt(ctx context.Context, v library.Viewer, videoID string) float64 {
	a := &s.opts.Analytics
	if a.Progress == nil {
		return 0
	}
	var p analytics.Progress
	found := false
	if s.progress != nil {
		e, err := s.unfinished(ctx, v.UserID)
		if err != nil {
			s.log.Warn("resume position unavailable", zap.String("video_id", videoID), zap.Error(err))
			return 0
		}
		if i := slices.Index(e.ids, videoID); i >= 0 {
			p, found = e.rows[i], true
		}
		if !found && e.complete {
			return 0 // not unfinished: nothing to resume
		}
	}
	if !found {
		m, err := a.Progress.Progress(ctx, v.UserID, videoID)
		if err != nil {
			s.log.Warn("resume position unavailable", zap.String("video_id", videoID), zap.Error(err))
			return 0
		}
		if p, found = m[videoID]; !found {
			return 0
		}
	}
	var at float64
	_ = s.lib.VisibleVideos(ctx, v, []string{videoID}, func(_ int, d library.VideoSummary) bool {
		at = p.ResumeAt(float64(d.DurationSeconds), a.Rules)
		return false
	})
	return at
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", cacheNone)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
