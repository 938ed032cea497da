package tree

import "time"

// VideoStatus is where a video stands in Vimeo: whether it can be played.
type VideoStatus string

// Video statuses. Only StatusAvailable videos are playable; the others stay in
// the mirror (analytics and audit keep their references) but are invisible to users.
const (
	StatusAvailable      VideoStatus = "available"       // transcoded and playable
	StatusTranscoding    VideoStatus = "transcoding"     // uploaded, still transcoding
	StatusTranscodeError VideoStatus = "transcode_error" // Vimeo could not transcode it
	StatusUnavailable    VideoStatus = "unavailable"     // Vimeo answers 403: we lost access
)

// Valid reports whether s is one of the known statuses.
func (s VideoStatus) Valid() bool {
	switch s {
	case StatusAvailable, StatusTranscoding, StatusTranscodeError, StatusUnavailable:
		return true
	}
	return false
}

// Playable reports whether a video with this status can be played.
func (s VideoStatus) Playable() bool { return s == StatusAvailable }

// Visibility mirrors Vimeo's privacy.view setting of a video.
type Visibility string

// Visibility values, as Vimeo names them.
const (
	VisibilityAnybody  Visibility = "anybody"
	VisibilityUnlisted Visibility = "unlisted"
	VisibilityNobody   Visibility = "nobody"
	VisibilityPassword Visibility = "password"
	VisibilityDisable  Visibility = "disable" // hidden from vimeo.com, embeddable
	VisibilityUsers    Visibility = "users"
	VisibilityContacts Visibility = "contacts"
)

// Valid reports whether v is one of the known visibilities.
func (v Visibility) Valid() bool {
	switch v {
	case VisibilityAnybody, VisibilityUnlisted, VisibilityNobody, VisibilityPassword,
		VisibilityDisable, VisibilityUsers, VisibilityContacts:
		return true
	}
	return false
}

// EmbedPrivacy mirrors Vimeo's privacy.embed setting of a video: where its
// player may be embedded.
type EmbedPrivacy string

// EmbedPrivacy values, as Vimeo names them.
const (
	EmbedPublic    EmbedPrivacy = "public"    // anywhere
	EmbedPrivate   EmbedPrivacy = "private"   // nowhere: the embedded player refuses to play
	EmbedWhitelist EmbedPrivacy = "whitelist" // on the domains listed in Vimeo (the app's must be among them)
)

// Valid reports whether e is one of the known embed privacies.
func (e EmbedPrivacy) Valid() bool {
	switch e {
	case EmbedPublic, EmbedPrivate, EmbedWhitelist:
		return true
	}
	return false
}

// EmbedBlock says why Vimeo's privacy settings keep the embedded player from
// playing the video for app users, or "" when they do not: privacy.view
// nobody (only the owner), password (unless allowPassword: the app lets
// Vimeo's player ask for it), users or contacts (a Vimeo account is needed),
// or privacy.embed private. Unknown or empty values block nothing: the
// mirror does not guess.
func (v Video) EmbedBlock(allowPassword bool) string {
	switch v.Visibility {
	case VisibilityNobody:
		return "privacy.view is nobody: only the owner can play it"
	case VisibilityPassword:
		if !allowPassword {
			return "privacy.view is password: viewers would have to type the video's password"
		}
	case VisibilityUsers, VisibilityContacts:
		return "privacy.view is " + string(v.Visibility) + ": viewers must be signed in to Vimeo"
	}
	if v.EmbedPrivacy == EmbedPrivate {
		return "privacy.embed is private: the video cannot be embedded"
	}
	return ""
}

// Folder is a mirrored Vimeo folder (a "project" in the API).
//
// VimeoID is the identity: the numeric tail of the folder's URI. ParentVimeoID is
// empty for a top-level folder of the snapshot (normally the configured root).
type Folder struct {
	ID            int64  // internal id assigned by a store; 0 until stored
	VimeoID       string // Vimeo folder id; the identity in a snapshot
	ParentVimeoID string // "" for a top-level folder
	Name          string // not unique: Vimeo allows siblings of the same name
	SortOrder     int    // position among its siblings in Vimeo's listing

	CreatedAt  time.Time // Vimeo created_time
	ModifiedAt time.Time // Vimeo modified_time
	DeletedAt  time.Time // zero unless soft-deleted in the mirror
}

// Deleted reports whether the folder is soft-deleted.
func (f Folder) Deleted() bool { return !f.DeletedAt.IsZero() }

// Video is a mirrored Vimeo video with the fields the library serves.
type Video struct {
	ID              int64  // internal id assigned by a store; 0 until stored
	VimeoID         string // Vimeo video id (the URI tail without ":hash")
	Title           string
	Description     string
	ThumbnailURL    string
	Pictures        []Picture // every thumbnail size Vimeo lists, for srcset; nil when none
	Tags            []string  // Vimeo tags, in Vimeo's order; nil when none
	DurationSeconds int
	Status          VideoStatus
	Visibility      Visibility
	EmbedKey        string // the unlisted hash ("h" parameter), if any
	EmbedPrivacy    EmbedPrivacy
	Hidden          bool // hidden internally by an admin; invisible to users

	CreatedAt  time.Time // Vimeo created_time
	ModifiedAt time.Time // Vimeo modified_time
	UpdatedAt  time.Time // when the mirror last changed this row
	DeletedAt  time.Time // zero unless soft-deleted in the mirror
}

// Picture is one size of a video's thumbnail, as Vimeo renders it
// (pictures.sizes).
type Picture struct {
	Width  int
	Height int
	URL    string
}

// Deleted reports whether the video is soft-deleted.
func (v Video) Deleted() bool { return !v.DeletedAt.IsZero() }

// Playable reports whether users may ever see the video: available in Vimeo, not
// hidden by an admin and not deleted.
func (v Video) Playable() bool { return v.Status.Playable() && !v.Hidden && !v.Deleted() }

// Placement puts a video in a folder at a position (folder_videos).
type Placement struct {
	FolderVimeoID string
	VideoVimeoID  string
	SortOrder     int
}
