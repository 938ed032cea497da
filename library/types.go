package library

import "time"

// Viewer is the signed-in user a question is asked for, as the server's
// authentication decided: the library never sees tokens. Roles and Segments
// are what entitlement rules match. An Anonymous viewer (no sign-in; the
// other fields are ignored) sees only what "public" rules show.
type Viewer struct {
	UserID    string
	Email     string
	Name      string
	Roles     []string
	Segments  map[string]string
	Anonymous bool
}

// FolderRef names a folder (a breadcrumb element).
type FolderRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// FolderSummary is a folder in a listing. The counts are of what the viewer
// may see directly inside it (visible subfolders, visible videos), never of
// the folder's real contents. Cover, when present, is the picture of a video
// in the folder that the viewer may see (see Cover).
type FolderSummary struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	FolderCount int    `json:"folder_count"`
	VideoCount  int    `json:"video_count"`
	Cover       *Cover `json:"cover,omitempty"`
}

// Thumbnail is one size of a video's thumbnail as Vimeo renders it
// (pictures.sizes), for an img srcset.
type Thumbnail struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	URL    string `json:"url"`
}

// Cover is a folder's picture: the thumbnails of the first playable video
// with thumbnails in the folder, in listing order (the folder's own videos,
// then its subfolders' depth first), among the first CoverCandidates such
// videos, that the viewer may see. It never shows a video the viewer may not
// see; a folder whose candidates are all hidden from the viewer has no cover.
type Cover struct {
	VideoID    string      `json:"video_id"`
	Thumbnails []Thumbnail `json:"thumbnails"`
}

// CoverCandidates bounds the videos a folder's cover is chosen from.
const CoverCandidates = 16

// VideoSummary is a video in a listing. Thumbnails lists every size Vimeo
// renders, smallest first as Vimeo lists them (empty until the mirror has
// read them); ThumbnailURL is the largest. Locked is true (with LockReason:
// sign_in, upgrade or purchase) for a video a teaser rule lists without
// letting the viewer watch it; both are absent otherwise.
type VideoSummary struct {
	ID              string      `json:"id"`
	Title           string      `json:"title"`
	ThumbnailURL    string      `json:"thumbnail_url,omitempty"`
	Thumbnails      []Thumbnail `json:"thumbnails"`
	DurationSeconds int         `json:"duration_seconds"`
	CreatedAt       time.Time   `json:"created_at,omitzero"`
	Locked          bool        `json:"locked,omitempty"`
	LockReason      string      `json:"lock_reason,omitempty"`
}

// Row kinds of Home.
const (
	RowContinueWatching = "continue_watching"
	RowRankedForYou     = "ranked_for_you"
	RowRecentlyAdded    = "recently_added"
)

// Row is a horizontal row of videos on the home screen.
type Row struct {
	Kind   string         `json:"kind"`
	Title  string         `json:"title"`
	Videos []VideoSummary `json:"videos"`
}

// Home is the library's start page: the visible top-level folders of the
// mirrored root (the children of the snapshot's root folders), videos placed
// directly in a root, and rows. Only the recently-added row exists so far;
// continue watching and ranked-for-you come with the analytics and ranking
// work.
type Home struct {
	Folders []FolderSummary `json:"folders"`
	Videos  []VideoSummary  `json:"videos"`
	Rows    []Row           `json:"rows"`
	Version string          `json:"version"`
}

// FolderPage is one page of a folder: the folder, the breadcrumb of its
// ancestors below the mirrored root (all visible, since a visible folder's
// ancestors are visible), and its visible subfolders then its visible videos
// in Vimeo's order. NextCursor is empty on the last page.
type FolderPage struct {
	Folder     FolderRef       `json:"folder"`
	Breadcrumb []FolderRef     `json:"breadcrumb"`
	Folders    []FolderSummary `json:"folders"`
	Videos     []VideoSummary  `json:"videos"`
	NextCursor string          `json:"next_cursor,omitempty"`
	Version    string          `json:"version"`
}

// VideoDetail is one video, after the access check. Folder is the visible
// folder it is placed in and Breadcrumb that folder's ancestors below the
// mirrored root, root first. Locked and LockReason as in VideoSummary: a
// locked video has a detail but no playback.
type VideoDetail struct {
	ID              string      `json:"id"`
	Title           string      `json:"title"`
	Description     string      `json:"description"`
	ThumbnailURL    string      `json:"thumbnail_url,omitempty"`
	Thumbnails      []Thumbnail `json:"thumbnails"`
	DurationSeconds int         `json:"duration_seconds"`
	CreatedAt       time.Time   `json:"created_at,omitzero"`
	ModifiedAt      time.Time   `json:"modified_at,omitzero"`
	Folder          *FolderRef  `json:"folder,omitempty"`
	Breadcrumb      []FolderRef `json:"breadcrumb"`
	Version         string      `json:"version"`
	Locked          bool        `json:"locked,omitempty"`
	LockReason      string      `json:"lock_reason,omitempty"`
}

// Playback is what a player needs, after the access check: the Vimeo player
// URL (with the unlisted hash as h= when the video has one) and an iframe.
// The mirror does not store HLS or progressive file links, so there are none.
type Playback struct {
	VideoID   string `json:"video_id"`
	EmbedURL  string `json:"embed_url"`
	EmbedHTML string `json:"embed_html"`
}

// Me is the signed-in user as the backend sees them.
type Me struct {
	User     MeUser            `json:"user"`
	Roles    []string          `json:"roles"`
	Segments map[string]string `json:"segments"`
}

// MeUser identifies the user.
type MeUser struct {
	ID    string `json:"id"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// Status describes the loaded snapshot (for readiness and operators).
type Status struct {
	Ready              bool          `json:"ready"`
	ContentVersion     int64         `json:"content_version"`
	EntitlementVersion int64         `json:"entitlement_version"`
	Folders            int           `json:"folders"`
	Videos             int           `json:"videos"`
	Rules              int           `json:"rules"`
	LoadedAt           time.Time     `json:"loaded_at,omitzero"`
	BuildDuration      time.Duration `json:"build_duration"`
}
