package admin

import (
	"time"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

// Actor is who performs an admin action: the signed-in admin, and the
// request it came with (for the audit record).
type Actor struct {
	ID        string `json:"id"`   // internal user id, or "issuer:<subject>" for an admin issuer
	Name      string `json:"name"` // display name or email, for people
	RequestID string `json:"request_id,omitempty"`
}

// Page is one page of a list, newest first; Next is the cursor of the
// following page ("" on the last).
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// SyncRunQuery filters the sync run history (tree.SyncRunQuery).
type SyncRunQuery = tree.SyncRunQuery

// SyncRun is one reconciliation or poll, with its counts and API calls.
type SyncRun struct {
	ID         int64          `json:"id"`
	Trigger    string         `json:"trigger"`
	Status     string         `json:"status"` // running, ok, held, failed
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt time.Time      `json:"finished_at,omitzero"`
	DurationMS int64          `json:"duration_ms"`
	Complete   bool           `json:"complete"`
	Held       bool           `json:"held"`
	Counts     map[string]int `json:"counts"`
	APICalls   int            `json:"api_calls"`
	Errors     []string       `json:"errors"`
	// HeldStatus is pending while held deletions wait for an admin, then
	// approved or rejected (by HeldBy, at HeldDecidedAt); "" when nothing
	// was held.
	HeldStatus    string    `json:"held_status,omitempty"`
	HeldBy        string    `json:"held_by,omitempty"`
	HeldDecidedAt time.Time `json:"held_decided_at,omitzero"`
	// ChangesTotal counts the changes the run applied; Changes and
	// HeldChanges (detail only) are the recorded ones in words.
	ChangesTotal int      `json:"changes_total"`
	Changes      []string `json:"changes,omitempty"`
	HeldChanges  []string `json:"held_changes,omitempty"`
	// CommandID, set only on the answer to a decision, is the command sent
	// to the sync worker that will carry it out (a process without a
	// mirror); the run is still pending then.
	CommandID string `json:"command_id,omitempty"`
}

// ProviderEventQuery filters webhook receipts (events.ProviderEventQuery).
type ProviderEventQuery = events.ProviderEventQuery

// ProviderEvent is one stored webhook receipt. Payload is only in the detail.
type ProviderEvent struct {
	ID              int64     `json:"id"`
	Provider        string    `json:"provider"`
	EventKey        string    `json:"event_key"`
	EventType       string    `json:"event_type"`
	ObjectID        string    `json:"object_id"`
	SourceTimestamp time.Time `json:"source_timestamp,omitzero"`
	ReceivedAt      time.Time `json:"received_at"`
	Status          string    `json:"status"`
	ProcessedAt     time.Time `json:"processed_at,omitzero"`
	Error           string    `json:"error,omitempty"`
	Payload         RawJSON   `json:"payload,omitempty"`
}

// DeadLetterQuery filters dead letters (events.DeadLetterQuery).
type DeadLetterQuery = events.DeadLetterQuery

// DeadLetter is a message that could not be processed. Payload and History
// are only in the detail.
type DeadLetter struct {
	ID            int64                     `json:"id"`
	EventID       string                    `json:"event_id"`
	Topic         string                    `json:"topic"`
	DeadTopic     string                    `json:"dead_topic,omitempty"`
	Key           string                    `json:"key,omitempty"`
	Error         string                    `json:"error"`
	Attempts      int                       `json:"attempts"`
	FirstFailedAt time.Time                 `json:"first_failed_at"`
	LastFailedAt  time.Time                 `json:"last_failed_at"`
	Status        string                    `json:"status"`
	Note          string                    `json:"note,omitempty"`
	ReplayCount   int                       `json:"replay_count"`
	ReplayedAt    time.Time                 `json:"replayed_at,omitzero"`
	Payload       RawJSON                   `json:"payload,omitempty"`
	History       []events.DeadLetterChange `json:"history,omitempty"`
}

// VideoQuery filters the videos users cannot see (tree.VideoQuery).
type VideoQuery = tree.VideoQuery

// Video is a video users cannot see, and why.
type Video struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Status    string    `json:"status"`
	Hidden    bool      `json:"hidden"`
	Deleted   bool      `json:"deleted"`
	DeletedAt time.Time `json:"deleted_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	Folders   []string  `json:"folders,omitempty"`
}

// ScopeKind is what a cache invalidation covers.
type ScopeKind string

// Scope kinds.
const (
	ScopeAll    ScopeKind = "all"
	ScopeFolder ScopeKind = "folder" // the folder's subtree
	ScopeVideo  ScopeKind = "video"
)

// Scope is a cache invalidation's reach: everything, a folder subtree or a
// video.
type Scope struct {
	Kind ScopeKind `json:"scope"`
	ID   string    `json:"id,omitempty"`
}

// Invalidation is a cache invalidation sent to every API instance.
type Invalidation struct {
	ID    string    `json:"id"` // unique, for the instances' reports
	Scope Scope     `json:"scope"`
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
}

// InvalidateResult says what was sent and which instances were live then.
type InvalidateResult struct {
	Invalidation Invalidation `json:"invalidation"`
	Instances    int          `json:"instances"` // live instances when it was sent
}

// Instance is one API instance's cache state, as it last reported it.
type Instance struct {
	ID                 string    `json:"id"`
	Host               string    `json:"host,omitempty"`
	ContentVersion     int64     `json:"content_version"`
	EntitlementVersion int64     `json:"entitlement_version"`
	LoadedAt           time.Time `json:"loaded_at,omitzero"`
	Ready              bool      `json:"ready"`
	Folders            int       `json:"folders"`
	Videos             int       `json:"videos"`
	CachedPages        int       `json:"cached_pages"`
	CachedBytes        int       `json:"cached_bytes"`
	LastInvalidation   string    `json:"last_invalidation,omitempty"` // the id of the last one applied
	ReportedAt         time.Time `json:"reported_at"`
}

// Lag is one consumer group's lag on one topic, summed over partitions.
type Lag struct {
	Group string `json:"group"`
	Topic string `json:"topic"`
	Lag   int64  `json:"lag"`
	Error string `json:"error,omitempty"`
}

// ReconcileScope is what a reconciliation covers.
type ReconcileScope string

// Reconcile scopes.
const (
	ReconcileRoot   ReconcileScope = "root"
	ReconcileFolder ReconcileScope = "folder"
	ReconcileVideo  ReconcileScope = "video"
)

// ReconcileRequest asks for a reconciliation.
type ReconcileRequest struct {
	Scope ReconcileScope `json:"scope"`
	ID    string         `json:"id,omitempty"` // folder or video id
	// Wait runs it before answering; otherwise it runs in the background and
	// shows up in the sync run history.
	Wait bool `json:"wait,omitempty"`
}

// ReconcileResult is what a reconciliation did (Started only when it runs
// in the background; Queued, with CommandID, when it was sent to the sync
// worker, which runs it later: see the sync run history).
type ReconcileResult struct {
	Scope     ReconcileScope `json:"scope"`
	ID        string         `json:"id,omitempty"`
	Started   bool           `json:"started,omitempty"`
	Queued    bool           `json:"queued,omitempty"`
	CommandID string         `json:"command_id,omitempty"`
	Run       *SyncRun       `json:"run,omitempty"`
	Applied   int            `json:"applied"`
	Held      int            `json:"held"`
	Skipped   int            `json:"skipped"`
	Changes   []string       `json:"changes,omitempty"` // in words, at most 200
	Version   int64          `json:"version,omitempty"`
}

// Drift compares the mirror with Vimeo: the last reconciliation's changes,
// or a dry run's (nothing applied).
type Drift struct {
	DryRun    bool           `json:"dry_run"`
	At        time.Time      `json:"at"`
	Run       *SyncRun       `json:"run,omitempty"` // the last reconciliation (not for a dry run)
	Complete  bool           `json:"complete"`
	Counts    map[string]int `json:"counts"`
	Changes   []string       `json:"changes"` // in words, at most 1000
	Held      []string       `json:"held,omitempty"`
	Total     int            `json:"total"`
	WouldHold bool           `json:"would_hold,omitempty"` // a dry run's deletions exceed the share a run may delete
	APICalls  int            `json:"api_calls,omitempty"`
	Summary   string         `json:"summary"`
	// NotPlayable are the mirrored videos (at most 1000) that Vimeo's privacy
	// settings keep from playing in the app, so no user is offered them,
	// with why (the library as loaded now; empty without a library).
	NotPlayable []NotPlayable `json:"not_playable"`
}

// NotPlayable is a video that Vimeo's privacy keeps out of the library.
type NotPlayable struct {
	VideoID string `json:"video_id"`
	Title   string `json:"title"`
	Reason  string `json:"reason"` // e.g. "privacy.view is nobody: only the owner can play it"
}

// ExplainRequest names who and what: a user (by internal id) or an
// audience (roles and segments), and a video, a folder, or neither (a
// per-top-folder summary).
type ExplainRequest struct {
	// Anonymous asks for a visitor who has not signed in (public rules
	// only); it excludes UserID, Roles and Segments.
	Anonymous bool              `json:"anonymous,omitempty"`
	UserID    string            `json:"user_id,omitempty"`
	Roles     []string          `json:"roles,omitempty"`
	Segments  map[string]string `json:"segments,omitempty"`
	VideoID   string            `json:"video_id,omitempty"`
	FolderID  string            `json:"folder_id,omitempty"`
}

// Explanation is the answer of Explain.
type Explanation struct {
	Audience string          `json:"audience"`
	Video    *VideoDecision  `json:"video,omitempty"`
	Folder   *FolderAccess   `json:"folder,omitempty"`
	Summary  []FolderSummary `json:"summary,omitempty"`
}

// VideoDecision is an entitlement decision on one video with its reason:
// the levels walked (the video, then each placement's folders), the deciding
// rule and level, and the single rule changes that would flip it.
type VideoDecision struct {
	VideoID     string         `json:"video_id"`
	Title       string         `json:"title,omitempty"`
	Allowed     bool           `json:"allowed"`
	Locked      bool           `json:"locked,omitempty"`      // a teaser lists it locked (Rule is that teaser)
	LockReason  string         `json:"lock_reason,omitempty"` // sign_in, upgrade or purchase
	Reason      string         `json:"reason"`
	Detail      string         `json:"detail,omitempty"` // reason vimeo_privacy: which Vimeo setting blocks the embed
	Rule        *Rule          `json:"rule,omitempty"`
	Level       int            `json:"level"`
	Target      string         `json:"target,omitempty"`
	Via         string         `json:"via,omitempty"`
	Path        []string       `json:"path,omitempty"` // the deciding placement's levels, most specific first: video:<id>, folder:<id>, …
	Levels      []ExplainLevel `json:"levels,omitempty"`
	Words       string         `json:"words"` // the explanation in sentences
	WouldChange []string       `json:"would_change,omitempty"`
}

// ExplainLevel is one target looked at: its matching rules (for this
// audience) and the others.
type ExplainLevel struct {
	Level   int    `json:"level"`
	Target  string `json:"target"`
	Name    string `json:"name,omitempty"`
	Via     string `json:"via,omitempty"` // the placement walked ("" for the video level)
	Matched []Rule `json:"matched,omitempty"`
	Other   []Rule `json:"other,omitempty"`
	Decides bool   `json:"decides"`
}

// FolderAccess says whether an audience sees a folder, and which rule
// subjects can see it, with the rules that grant it.
type FolderAccess struct {
	FolderID      string       `json:"folder_id"`
	Visible       bool         `json:"visible"`
	VisibleVideos int          `json:"visible_videos"`
	Videos        int          `json:"videos"`
	Subjects      []SubjectSee `json:"subjects"` // who can see it, by rule subject
	Denied        int          `json:"denied"`   // rule subjects that cannot
}

// SubjectSee is a rule subject that can see a folder, and why.
type SubjectSee struct {
	Subject string `json:"subject"`
	Grants  []Rule `json:"grants"`
}

// FolderSummary is what an audience sees of one section (a child of a
// top-level folder).
type FolderSummary struct {
	FolderID       string `json:"folder_id"`
	Name           string `json:"name"`
	Visible        bool   `json:"visible"`
	VisibleVideos  int    `json:"visible_videos"`
	VisibleFolders int    `json:"visible_folders"`
}

// Rule is an entitlement rule in the admin's words.
type Rule struct {
	ID         int64     `json:"id,omitempty"`
	Subject    string    `json:"subject"`               // public, everyone, role:<name>, segment:<key>=<value>, user:<id>
	Target     string    `json:"target"`                // folder:<id>, video:<id>
	Effect     string    `json:"effect"`                // allow, deny, teaser
	LockReason string    `json:"lock_reason,omitempty"` // teaser only: sign_in (public only), upgrade, purchase
	Note       string    `json:"note,omitempty"`
	CreatedBy  string    `json:"created_by,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
}

// RuleChange is a rule to add, or the id of one to remove, for a preview.
type RuleChange struct {
	Add    *Rule `json:"add,omitempty"`
	Remove int64 `json:"remove,omitempty"`
}

// Preview is the effect of a rule change before it is applied: per subject
// that the change concerns, how many videos it gains or loses.
type Preview struct {
	Effects []PreviewEffect `json:"effects"`
	Words   string          `json:"words"` // e.g. "+1,204 videos for role:member"
}

// PreviewEffect is the change of one audience's library.
type PreviewEffect struct {
	Subject        string   `json:"subject"` // the audience (a rule subject)
	Before         int      `json:"before"`  // visible videos now
	After          int      `json:"after"`
	Delta          int      `json:"delta"`
	VideosAdded    int      `json:"videos_added"`
	VideosRemoved  int      `json:"videos_removed"`
	FoldersAdded   int      `json:"folders_added"`
	FoldersRemoved int      `json:"folders_removed"`
	LockedAdded    int      `json:"locked_added,omitempty"`   // videos a teaser starts listing locked
	LockedRemoved  int      `json:"locked_removed,omitempty"` // videos no longer listed locked
	ExampleAdded   []string `json:"example_added,omitempty"`
	ExampleRemoved []string `json:"example_removed,omitempty"`
	Words          string   `json:"words"`
}

// RuleSet is the rules and their version.
type RuleSet struct {
	Rules   []Rule `json:"rules"`
	Version int64  `json:"version"`
}

// Overview is the dashboard's first screen.
type Overview struct {
	LastRun         *SyncRun   `json:"last_run,omitempty"`
	OpenDeadLetters int        `json:"open_dead_letters"`      // up to 1000 (more: 1000)
	FailedEvents    int        `json:"failed_provider_events"` // up to 1000
	HeldRuns        int        `json:"held_runs"`
	Instances       []Instance `json:"instances"`
	Lag             []Lag      `json:"lag"`
}

// ruleOf turns an entitle.Rule into its admin form.
func ruleOf(r entitle.Rule) Rule {
	return Rule{ID: r.ID, Subject: r.Subject.String(), Target: r.Target.String(), Effect: string(r.Effect),
		LockReason: string(r.LockReason), Note: r.Note, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
}
