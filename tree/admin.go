package tree

import (
	"context"
	"time"
)

// SyncRunQuery selects sync runs for the admin's search: every set field
// must match. Newest first by ID.
type SyncRunQuery struct {
	Trigger  string    // "" for any
	Status   string    // "" any, "running", "ok" (complete, not held, no errors), "held" (deletions held, decided or not), "failed" (errors or incomplete)
	From, To time.Time // StartedAt in [From, To); zero: unbounded
	Before   int64     // cursor: only runs with ID < Before (0: from the newest)
	Limit    int       // 1…1000 (0: 50)
}

// SyncRun statuses of SyncRunQuery.Status and RunStatus.
const (
	RunRunning = "running"
	RunOK      = "ok"
	RunHeld    = "held"
	RunFailed  = "failed"
)

// RunStatus summarises a run in one word: running, held, failed or ok.
func RunStatus(r SyncRun) string {
	switch {
	case r.FinishedAt.IsZero():
		return RunRunning
	case r.Held:
		return RunHeld
	case len(r.Errors) > 0 || !r.Complete:
		return RunFailed
	}
	return RunOK
}

// VideoState selects videos by what keeps them from users.
type VideoState string

// Video states of VideoQuery.
const (
	StateDeleted     VideoState = "deleted"     // soft-deleted by a reconciliation
	StateUnavailable VideoState = "unavailable" // not playable in Vimeo (transcoding, error, unavailable)
	StateHidden      VideoState = "hidden"      // hidden by an admin
)

// Valid reports whether s is a known state.
func (s VideoState) Valid() bool {
	return s == StateDeleted || s == StateUnavailable || s == StateHidden
}

// VideoQuery selects the videos users cannot see for the admin: every set
// field must match; with no State, videos in any of the three states.
// Ordered by Vimeo id, descending; After is the cursor (the last id seen).
type VideoQuery struct {
	State VideoState
	Text  string // substring of the title or the Vimeo id (case-insensitive)
	After string // only videos with a Vimeo id ordered before this one
	Limit int    // 1…1000 (0: 50)
}

// AdminStore is the admin's read side of the mirror: store/pgstore and
// store/memstore implement it.
type AdminStore interface {
	// SearchSyncRuns returns runs without their recorded changes (Changes,
	// HeldChanges nil), newest first.
	SearchSyncRuns(ctx context.Context, q SyncRunQuery) ([]SyncRun, error)
	// SyncRun returns one run with its recorded changes (ErrNotFound).
	SyncRun(ctx context.Context, id int64) (SyncRun, error)
	// SearchVideos returns videos users cannot see (deleted, unavailable or
	// hidden), deleted ones included.
	SearchVideos(ctx context.Context, q VideoQuery) ([]Video, error)
}
