package tree

import (
	"context"
	"errors"
	"time"
)

// ErrForbidden is what a Source returns (wrapped) for an object that exists
// but that the credential may no longer read (Vimeo's 403). The mirror marks
// such a video unavailable instead of deleting it. A Source returns an error
// wrapping ErrNotFound for an object that is gone (Vimeo's 404).
var ErrForbidden = errors.New("tree: forbidden at the source")

// Source is where the mirror reads the truth: the provider's folder tree
// under the mirrored root. tree/vimeosource implements it over vimeo.Client.
// Every method counts its API calls in what it returns, so that sync_runs can
// record the cost of a run.
type Source interface {
	// Walk lists the whole tree under the mirrored root. A walk that could not
	// list everything, or saw listings move under it, says so (Complete false);
	// the mirror never deletes on such a walk. An error means nothing useful
	// could be listed (the root itself failed).
	Walk(ctx context.Context) (*Walk, error)
	// Video fetches one video as it is now, with the folder it is in.
	// Errors wrap ErrNotFound (gone) or ErrForbidden (unavailable).
	Video(ctx context.Context, vimeoID string) (*RemoteVideo, error)
	// Folder fetches one folder as it is now, with its ancestors.
	// Errors wrap ErrNotFound (gone) or ErrForbidden (unavailable).
	Folder(ctx context.Context, vimeoID string) (*RemoteFolder, error)
	// Changes returns what changed at the source since the cursor: the recent
	// poll. A zero cursor establishes one (and returns at most a first page).
	Changes(ctx context.Context, since Cursor) (*Changes, error)
}

// Walk is the result of listing the whole tree under the mirrored root.
type Walk struct {
	RootVimeoID string // the mirrored root; a top-level folder of the walk
	Folders     []Folder
	Videos      []Video
	Placements  []Placement
	// Complete is true when every folder was listed and every listing was
	// consistent, so that an object missing from the walk may be gone.
	Complete bool
	Problems []string // why the walk is not complete, for sync_runs
	Calls    int      // API calls the walk made
	// StartedAt is when the walk began (zero if unknown). A reconciliation
	// that finds no poll cursor starts the recent poll from shortly before it.
	StartedAt time.Time
}

// RemoteVideo is one video as the source has it now.
type RemoteVideo struct {
	Video Video
	// FolderVimeoID is the folder the video is in at the source, "" when it is
	// in no folder (the account's top level). It may be a folder outside the
	// mirrored root.
	FolderVimeoID string
	// FolderUnknown is true when the source did not say where the video is
	// (Vimeo's modified-since list carries no parent): the mirror fetches the
	// video with Video before it places it. Video never sets it.
	FolderUnknown bool
	Calls         int // API calls spent fetching it (0 inside Changes)
}

// RemoteFolder is one folder as the source has it now. Folder.ParentVimeoID
// is its parent at the source ("" at the account's top level), which may lie
// outside the mirrored root.
type RemoteFolder struct {
	Folder Folder
	// Ancestors are the folder's ancestors at the source, nearest first, so the
	// mirror can tell whether the folder lies under the mirrored root.
	Ancestors []string
	Calls     int // API calls spent fetching it (0 inside Changes)
}

// Cursor is the position of the recent poll: watermarks the source returned.
// It is persisted (as JSON) with the changes it led to, so a restart resumes
// where the last applied poll ended.
type Cursor struct {
	VideosSince  time.Time `json:"videos_since,omitzero"`
	LastModified string    `json:"last_modified,omitempty"` // the source's validator for a conditional request
	FoldersSince time.Time `json:"folders_since,omitzero"`
	// FoldersPolledAt is when the folder list was last read, for sources that
	// read it less often than the videos.
	FoldersPolledAt time.Time `json:"folders_polled_at,omitzero"`
}

// IsZero reports whether the cursor has never been set.
func (c Cursor) IsZero() bool {
	return c.VideosSince.IsZero() && c.LastModified == "" && c.FoldersSince.IsZero() && c.FoldersPolledAt.IsZero()
}

// Changes is what changed at the source since a cursor, newest first.
type Changes struct {
	// NotModified is true when the source said nothing changed (for Vimeo a 304
	// to If-Modified-Since): one call, nothing to apply.
	NotModified bool
	Videos      []RemoteVideo
	Folders     []RemoteFolder
	Next        Cursor // pass back on the next poll once these changes are applied
	// Truncated is true when more changed than was read: a reconciliation
	// should follow.
	Truncated bool
	Calls     int
}
