package auth

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// AudienceRecorder keeps the roles and segments each user was last signed in
// with (store/pgstore: user_audiences) for whoever needs them without a
// token: the ranking pipeline ranks users offline, and roles from
// identity-provider groups and segments from token claims exist only in
// tokens.
type AudienceRecorder interface {
	RecordAudience(ctx context.Context, userID string, roles []string, segments map[string]string) error
}

// audienceWriteTimeout bounds one RecordAudience call.
const audienceWriteTimeout = 10 * time.Second

// audiences records principals' audiences through Options.Audiences when
// they change: it remembers the audience it last recorded per user (at most
// max users; forgetting one costs one more write of an unchanged audience,
// never a wrong one), and writes in the background, one write at a time,
// the newest audience of each user (a user's writes never land out of
// order). A failed write is logged and forgotten, so the user's next
// resolution writes again. Safe for concurrent use.
type audiences struct {
	rec AudienceRecorder
	max int
	log *zap.Logger

	mu      sync.Mutex
	last    map[string]string          // user id → audience key recorded or queued
	pending map[string]pendingAudience // user id → the audience to write next
	writing bool                       // the writer goroutine runs
	idle    chan struct{}              // closed when the writer stops (tests, close)
	closed  bool                       // close was called: nothing more is queued
}

type pendingAudience struct {
	key      string
	roles    []string
	segments map[string]string
}

func newAudiences(rec AudienceRecorder, maxUsers int, log *zap.Logger) *audiences {
	return &audiences{rec: rec, max: maxUsers, log: log, last: map[string]string{}, pending: map[string]pendingAudience{}}
}

// note queues the principal's audience unless it is the one last recorded
// for the user.
func (a *audiences) note(p *Principal) {
	if a == nil || p.User.ID == "" {
		return
	}
	user, key := p.User.ID, audienceKey(p.Roles, p.Segments)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return // the process stops; another one records it at its next resolution
	}
	if k, ok := a.last[user]; ok && k == key {
		return
	}
	if _, queued := a.pending[user]; !queued && len(a.pending) >= a.max {
		delete(a.last, user) // too much waiting: the next resolution tries again
		return
	}
	for u := range a.last {
		if len(a.last) < a.max {
			break
		}
		delete(a.last, u)
	}
	a.last[user] = key
	a.pending[user] = pendingAudience{key: key, roles: slices.Clone(p.Roles), segments: maps.Clone(p.Segments)}
	if !a.writing {
		a.writing = true
		a.idle = make(chan struct{})
		go a.write(a.idle)
	}
}

// close queues nothing more and waits until the writer has written what was
// queued.
func (a *audiences) close() {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.closed = true
	idle, writing := a.idle, a.writing
	a.mu.Unlock()
	if writing {
		<-idle
	}
}

// write records the pending audiences until none is left.
func (a *audiences) write(idle chan struct{}) {
	defer close(idle)
	for {
		a.mu.Lock()
		var user string
		var p pendingAudience
		for user, p = range a.pending {
			break
		}
		if user == "" {
			a.writing = false
			a.mu.Unlock()
			return
		}
		delete(a.pending, user)
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), audienceWriteTimeout)
		err := a.rec.RecordAudience(ctx, user, p.roles, p.segments)
		cancel()
		if err != nil {
			a.mu.Lock()
			if a.last[user] == p.key {
				delete(a.last, user)
			}
			a.mu.Unlock()
			a.log.Warn("audience not recorded; the next sign-in resolution retries", zap.String("user_id", user), zap.Error(err))
		}
	}
}

// audienceKey identifies roles (sorted, as in a Principal) and segments;
// length prefixes make it injective whatever the strings hold.
func audienceKey(roles []string, segments map[string]string) string {
	var b strings.Builder
	part := func(tag byte, s string) {
		b.WriteByte(tag)
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	for _, r := range roles {
		part('r', r)
	}
	for _, k := range slices.Sorted(maps.Keys(segments)) {
		part('k', k)
		part('v', segments[k])
	}
	return b.String()
}
