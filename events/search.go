package events

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/vidlib/vidlib/internal/text"
)

// ProviderEventQuery selects provider events for the admin's search: every
// set field must match. It is richer than ProviderEventFilter (time range,
// event type, free text) and pages the same way, newest first by ID.
type ProviderEventQuery struct {
	Provider  string              // "" for any
	Status    ProviderEventStatus // "" for any
	EventType string              // exact event type; "" for any
	Text      string              // words (each a prefix of a word) of the object id, event key or error, any case; "" for any
	From, To  time.Time           // ReceivedAt in [From, To); zero: unbounded
	Before    int64               // cursor: only events with ID < Before (0: from the newest)
	Limit     int                 // 1…1000 (0: 50)
}

// Normalize validates q and sets the default limit.
func (q ProviderEventQuery) Normalize() (ProviderEventQuery, error) {
	p := problems{what: "provider event query"}
	q.Limit = checkListing(&p, q.Status, q.From, q.To, q.Before, q.Limit)
	checkText(&p, q.Text)
	return q, p.err()
}

// DeadLetterQuery selects dead letters for the admin's search: every set
// field must match. Newest first by ID.
type DeadLetterQuery struct {
	Status   DeadLetterStatus // "" for any
	Topic    string           // the original topic; "" for any
	EventID  string           // one event's letters; "" for any
	Text     string           // words (each a prefix of a word) of the event id, key, error or note, any case; "" for any
	From, To time.Time        // LastFailedAt in [From, To); zero: unbounded
	Before   int64            // cursor: only letters with ID < Before (0: from the newest)
	Limit    int              // 1…1000 (0: 50)
}

// Normalize validates q and sets the default limit.
func (q DeadLetterQuery) Normalize() (DeadLetterQuery, error) {
	p := problems{what: "dead letter query"}
	q.Limit = checkListing(&p, q.Status, q.From, q.To, q.Before, q.Limit)
	checkText(&p, q.Text)
	return q, p.err()
}

func checkText(p *problems, q string) {
	switch {
	case !text.Printable(q, 256):
		p.add("q", "must be printable UTF-8 of at most 256 bytes")
	case q != "" && len(TextWords(q)) == 0:
		p.add("q", "needs a letter or a digit")
	}
}

// TextWords splits a search text into lower-case words: runs of letters and
// digits. A text search matches a record when every word is the prefix of
// a word of its text (stores: PostgreSQL full-text prefix queries over the
// 'simple' configuration, memstore the same rule in Go).
func TextWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// MatchWords reports whether every word is the prefix of a word of one of
// the texts (the rule of TextWords).
func MatchWords(words []string, texts ...string) bool {
	if len(words) == 0 {
		return true
	}
	var have []string
	for _, t := range texts {
		have = append(have, TextWords(t)...)
	}
	for _, w := range words {
		found := false
		for _, h := range have {
			if strings.HasPrefix(h, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// ListThrough lists what a filter selects through a store's search, as the
// stores' ListDeadLetters and ListProviderEvents do: f is checked as a
// filter (its own *ValidationError), then searched as its Query.
func ListThrough[F interface {
	Normalize() (F, error)
	Query() Q
}, Q, T any](ctx context.Context, f F, search func(context.Context, Q) ([]T, error)) ([]T, error) {
	f, err := f.Normalize()
	if err != nil {
		return nil, err
	}
	return search(ctx, f.Query())
}

// checkListing checks what every listing and search of dead letters and
// provider events has: a known status ("" for any), a time range (zero:
// unbounded) and the page. It returns the limit, 50 when it is zero.
func checkListing[S interface {
	~string
	Valid() bool
}](p *problems, status S, from, to time.Time, before int64, limit int) int {
	if status != "" && !status.Valid() {
		p.add("status", "unknown status %q", status)
	}
	checkRange(p, from, to)
	return checkPage(p, before, limit)
}

func checkRange(p *problems, from, to time.Time) {
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		p.add("to", "must be after from")
	}
}

func checkPage(p *problems, before int64, limit int) int {
	if before < 0 {
		p.add("before", "must not be negative")
	}
	switch {
	case limit == 0:
		return 50
	case limit < 0 || limit > 1000:
		p.add("limit", "must be between 1 and 1000, got %d", limit)
	}
	return limit
}

// DeadLetterChange is one entry of a dead letter's history: a failure (Actor
// empty, Error set) or an admin's action (replay, ignore, note).
type DeadLetterChange struct {
	ID           int64     `json:"id"`
	DeadLetterID int64     `json:"dead_letter_id"`
	Time         time.Time `json:"time"`
	Kind         string    `json:"kind"`  // "failed", "dead_letter.replay", "dead_letter.ignore", "dead_letter.annotate"
	Actor        string    `json:"actor"` // "" for a failure
	Error        string    `json:"error,omitempty"`
	Attempts     int       `json:"attempts,omitempty"`
	Note         string    `json:"note,omitempty"`
	Status       string    `json:"status,omitempty"` // the letter's status after the change
}

// ChangeFailed is the Kind of a failure entry in a dead letter's history.
const ChangeFailed = "failed"

// DeadLetterSearcher is the admin's read side of dead letters and provider
// events: store/pgstore and store/memstore implement it.
type DeadLetterSearcher interface {
	SearchDeadLetters(ctx context.Context, q DeadLetterQuery) ([]DeadLetter, error)
	SearchProviderEvents(ctx context.Context, q ProviderEventQuery) ([]ProviderEvent, error)
	// AddDeadLetterChange appends to a letter's history (ErrNotFound for an
	// unknown letter).
	AddDeadLetterChange(ctx context.Context, c DeadLetterChange) error
	// DeadLetterHistory returns a letter's history, oldest first. Failures
	// recorded before the history existed appear as one entry at the first
	// failure time.
	DeadLetterHistory(ctx context.Context, id int64) ([]DeadLetterChange, error)
}
