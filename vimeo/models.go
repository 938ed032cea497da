package vimeo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vidlib/vidlib/tree"
)

// TotalUnknown is the value of a count the response did not include (for example
// because the fields= list did not ask for it).
const TotalUnknown = -1

// VideoStatus says whether a video can be played, derived from Vimeo's status,
// upload.status and transcode.status. The values equal tree.VideoStatus.
type VideoStatus string

// Video statuses.
const (
	StatusAvailable      VideoStatus = "available"
	StatusTranscoding    VideoStatus = "transcoding"
	StatusTranscodeError VideoStatus = "transcode_error"
	StatusUnavailable    VideoStatus = "unavailable"
)

// User is the authenticated user or another account (GET /me, /users/{uid}).
type User struct {
	URI         string
	ID          string
	Name        string
	Link        string
	Account     string // plan name, e.g. "basic", "standard"
	CreatedTime time.Time

	// Connection URIs from metadata.connections; empty when absent.
	FoldersURI     string
	FoldersRootURI string
	ProjectsURI    string
	VideosURI      string
}

// FolderRef names a folder without its details: one element of ancestor_path,
// or a parent link.
type FolderRef struct {
	URI  string
	ID   string
	Name string
}

// Folder is a Vimeo folder ("project").
type Folder struct {
	URI     string // /users/{owner}/projects/{id}; stable across moves
	ID      string
	OwnerID string // the {owner} of the URI (the team owner for team folders)
	Name    string // not unique, not even among siblings

	CreatedTime        time.Time
	ModifiedTime       time.Time
	LastUserActionTime time.Time

	ResourceKey string
	Link        string // empty for private folders (Vimeo sends null)
	PrivacyView string // anybody | nobody | team

	ItemsURI     string // metadata.connections.items.uri (or URI+"/items")
	ItemsTotal   int    // direct items; TotalUnknown when absent
	VideosTotal  int    // direct videos; TotalUnknown when absent
	FoldersTotal int    // direct subfolders; TotalUnknown when absent

	// ParentKnown is true when the response said where the folder sits
	// (metadata.connections.parent_folder or ancestor_path was present).
	ParentKnown bool
	ParentURI   string      // "" for a top-level folder
	ParentID    string      // "" for a top-level folder
	Ancestors   []FolderRef // immediate parent first, top-level folder last
}

// Picture is one rendition of a video thumbnail.
type Picture struct {
	Width, Height int
	Link          string
}

// Video is a Vimeo video.
type Video struct {
	URI         string // as sent: /videos/{id} or /videos/{id}:{hash}
	ID          string // numeric id, without ":hash"
	Hash        string // unlisted hash ("h"); from uri, link or player_embed_url
	Name        string
	Description string // "" when Vimeo sends null
	Type        string // video | live | stock
	Duration    int    // seconds; 0 while not yet computed
	Width       int
	Height      int
	Language    string

	Link           string
	PlayerEmbedURL string
	EmbedHTML      string

	CreatedTime        time.Time
	ModifiedTime       time.Time
	ReleaseTime        time.Time
	LastUserActionTime time.Time

	PrivacyView  string // anybody | nobody | unlisted | password | disable | …
	PrivacyEmbed string

	Status          string // Vimeo's raw status
	UploadStatus    string // upload.status, "" when absent or null
	TranscodeStatus string // transcode.status, "" when absent or null
	IsPlayable      bool

	PictureBaseLink string
	Pictures        []Picture // thumbnail sizes as listed

	Tags []string // the tags' names (tags[].name), in Vimeo's order

	ResourceKey string

	// ParentKnown is true when the body carried parent_folder or parent_project
	// (null means the library root). Videos inside /items listings carry neither:
	// take the parent from the listing folder instead.
	ParentKnown bool
	ParentURI   string
	ParentID    string
}

// Unlisted reports whether the video is unlisted (privacy.view "unlisted").
func (v *Video) Unlisted() bool { return v.PrivacyView == "unlisted" }

// ThumbnailURL returns the link of the largest thumbnail, or the base link when
// no sizes were listed, or "".
func (v *Video) ThumbnailURL() string {
	best, bestW := "", -1
	for _, p := range v.Pictures {
		if p.Link != "" && p.Width > bestW {
			best, bestW = p.Link, p.Width
		}
	}
	if best == "" {
		return v.PictureBaseLink
	}
	return best
}

// State derives the playability status from status, upload.status and
// transcode.status. Vimeo calls status deprecated in favour of upload and
// transcode, so both are read; an error anywhere wins, then "available", then
// any sign of work in progress.
func (v *Video) State() VideoStatus {
	switch {
	case v.TranscodeStatus == "error" || v.UploadStatus == "error" ||
		v.Status == "transcoding_error" || v.Status == "uploading_error" || v.Status == "failed":
		return StatusTranscodeError
	case v.Status == "available":
		return StatusAvailable
	case v.TranscodeStatus == "in_progress" || v.UploadStatus == "in_progress" ||
		v.Status == "uploading" || v.Status == "transcode_starting" || v.Status == "transcoding" ||
		v.Status == "processing":
		return StatusTranscoding
	case v.Status == "quota_exceeded" || v.Status == "total_cap_exceeded" || v.Status == "unavailable":
		return StatusUnavailable
	case v.TranscodeStatus == "complete" || v.IsPlayable:
		return StatusAvailable
	}
	return StatusUnavailable
}

// Item is one entry of a folder's /items listing: {type, folder|video|live_event}.
// Folder or Video is set for those types; for any other type (live_event,
// showcase, future types) both are nil and the item is to be skipped, though it
// still counts toward the listing's total.
type Item struct {
	Type   string
	URI    string // the enclosed object's uri, when it had one
	Folder *Folder
	Video  *Video
}

// Paging holds a collection's relative paging links; "" where Vimeo sent null.
type Paging struct {
	Next, Previous, First, Last string
}

// Page is one page of a collection: {total, page, per_page, paging, data}.
type Page[T any] struct {
	Total   int
	Page    int
	PerPage int
	Paging  Paging
	Data    []T
}

// ----- decoding -----

// flexInt accepts a JSON number, a numeric string, or null.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("vimeo: %q is not a number", s)
		}
		*n = flexInt(f)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = flexInt(f)
	return nil
}

// flexTime accepts ISO-8601 with any offset, a few near variants, epoch seconds
// (number or string), null and "". Anything unparseable becomes the zero time
// rather than failing the whole page.
type flexTime struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05-07:00",
	"2006-01-02 15:04:05",
}

func (t *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	t.Time = time.Time{}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
		t.Time, _ = parseTime(s)
		return nil
	}
	var f float64
	if json.Unmarshal(b, &f) == nil && f > 0 {
		t.Time = time.Unix(int64(f), 0).UTC()
	}
	return nil
}

// parseTime parses the timestamp forms Vimeo is known to send.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		if n > 1e12 { // milliseconds
			return time.UnixMilli(n).UTC(), true
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, l := range timeLayouts {
		if tt, err := time.Parse(l, s); err == nil {
			return tt, true
		}
	}
	return time.Time{}, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

type rawConn struct {
	URI   string   `json:"uri"`
	Total *flexInt `json:"total"`
}

func (c *rawConn) total() int {
	if c == nil || c.Total == nil {
		return TotalUnknown
	}
	return int(*c.Total)
}

type rawAncestor struct {
	URI  string `json:"uri"`
	Name string `json:"name"`
}

type rawFolder struct {
	URI                     string   `json:"uri"`
	Name                    string   `json:"name"`
	CreatedTime             flexTime `json:"created_time"`
	ModifiedTime            flexTime `json:"modified_time"`
	LastUserActionEventDate flexTime `json:"last_user_action_event_date"`
	ResourceKey             string   `json:"resource_key"`
	Link                    *string  `json:"link"`
	Privacy                 *struct {
		View string `json:"view"`
	} `json:"privacy"`
	Metadata *struct {
		Connections *struct {
			Items        *rawConn       `json:"items"`
			Videos       *rawConn       `json:"videos"`
			Folders      *rawConn       `json:"folders"`
			ParentFolder *rawConn       `json:"parent_folder"`
			AncestorPath *[]rawAncestor `json:"ancestor_path"`
		} `json:"connections"`
	} `json:"metadata"`
}

// UnmarshalJSON decodes a Vimeo folder object, tolerating absent and null fields.
func (f *Folder) UnmarshalJSON(b []byte) error {
	var r rawFolder
	if err := json.Unmarshal(bytes.TrimPrefix(b, utf8BOM), &r); err != nil {
		return err
	}
	*f = Folder{
		URI:                r.URI,
		Name:               r.Name,
		CreatedTime:        r.CreatedTime.Time,
		ModifiedTime:       r.ModifiedTime.Time,
		LastUserActionTime: r.LastUserActionEventDate.Time,
		ResourceKey:        r.ResourceKey,
		ItemsTotal:         TotalUnknown,
		VideosTotal:        TotalUnknown,
		FoldersTotal:       TotalUnknown,
	}
	f.OwnerID, f.ID = parseFolderURI(r.URI)
	if r.Link != nil {
		f.Link = *r.Link
	}
	if r.Privacy != nil {
		f.PrivacyView = r.Privacy.View
	}
	if r.Metadata != nil && r.Metadata.Connections != nil {
		c := r.Metadata.Connections
		if c.Items != nil {
			f.ItemsURI = c.Items.URI
		}
		f.ItemsTotal = c.Items.total()
		f.VideosTotal = c.Videos.total()
		f.FoldersTotal = c.Folders.total()
		if c.AncestorPath != nil {
			f.ParentKnown = true
			for _, a := range *c.AncestorPath {
				_, id := parseFolderURI(a.URI)
				f.Ancestors = append(f.Ancestors, FolderRef{URI: a.URI, ID: id, Name: a.Name})
			}
			if len(f.Ancestors) > 0 {
				f.ParentURI, f.ParentID = f.Ancestors[0].URI, f.Ancestors[0].ID
			}
		}
		if c.ParentFolder != nil && c.ParentFolder.URI != "" {
			f.ParentKnown = true
			f.ParentURI = c.ParentFolder.URI
			_, f.ParentID = parseFolderURI(c.ParentFolder.URI)
		}
	}
	if f.ItemsURI == "" && f.URI != "" {
		f.ItemsURI = strings.TrimSuffix(f.URI, "/") + "/items"
	}
	return nil
}

type rawPictures struct {
	BaseLink string `json:"base_link"`
	Sizes    []struct {
		Width  flexInt `json:"width"`
		Height flexInt `json:"height"`
		Link   string  `json:"link"`
	} `json:"sizes"`
}

// rawTag is one of a video's tags: name is what its owner typed, tag the same
// text, canonical a lower-case form without spaces.
type rawTag struct {
	Name string `json:"name"`
	Tag  string `json:"tag"`
}

type rawStatus struct {
	Status string `json:"status"`
}

type rawVideo struct {
	URI            string   `json:"uri"`
	Name           string   `json:"name"`
	Description    *string  `json:"description"`
	Type           string   `json:"type"`
	Link           *string  `json:"link"`
	PlayerEmbedURL *string  `json:"player_embed_url"`
	Duration       flexInt  `json:"duration"`
	Width          flexInt  `json:"width"`
	Height         flexInt  `json:"height"`
	Language       *string  `json:"language"`
	CreatedTime    flexTime `json:"created_time"`
	ModifiedTime   flexTime `json:"modified_time"`
	ReleaseTime    flexTime `json:"release_time"`
	LastUserAction flexTime `json:"last_user_action_event_date"`
	Embed          *struct {
		HTML *string `json:"html"`
	} `json:"embed"`
	Privacy *struct {
		View  string `json:"view"`
		Embed string `json:"embed"`
	} `json:"privacy"`
	Pictures      *rawPictures    `json:"pictures"`
	Tags          []rawTag        `json:"tags"`
	Status        string          `json:"status"`
	Upload        *rawStatus      `json:"upload"`
	Transcode     *rawStatus      `json:"transcode"`
	IsPlayable    *bool           `json:"is_playable"`
	ResourceKey   string          `json:"resource_key"`
	ParentFolder  json.RawMessage `json:"parent_folder"`
	ParentProject json.RawMessage `json:"parent_project"`
}

// UnmarshalJSON decodes a Vimeo video object, tolerating the known quirks: the
// ":hash" suffix on unlisted URIs, null fields, offsets other than UTC, and a
// parent under either parent_folder or parent_project.
func (v *Video) UnmarshalJSON(b []byte) error {
	var r rawVideo
	if err := json.Unmarshal(bytes.TrimPrefix(b, utf8BOM), &r); err != nil {
		return err
	}
	*v = Video{
		URI:                r.URI,
		Name:               r.Name,
		Type:               r.Type,
		Duration:           int(r.Duration),
		Width:              int(r.Width),
		Height:             int(r.Height),
		CreatedTime:        r.CreatedTime.Time,
		ModifiedTime:       r.ModifiedTime.Time,
		ReleaseTime:        r.ReleaseTime.Time,
		LastUserActionTime: r.LastUserAction.Time,
		Status:             r.Status,
		ResourceKey:        r.ResourceKey,
	}
	v.ID, v.Hash = parseVideoURI(r.URI)
	if r.Description != nil {
		v.Description = *r.Description
	}
	if r.Language != nil {
		v.Language = *r.Language
	}
	if r.Link != nil {
		v.Link = *r.Link
	}
	if r.PlayerEmbedURL != nil {
		v.PlayerEmbedURL = *r.PlayerEmbedURL
	}
	if r.Embed != nil && r.Embed.HTML != nil {
		v.EmbedHTML = *r.Embed.HTML
	}
	if r.Privacy != nil {
		v.PrivacyView, v.PrivacyEmbed = r.Privacy.View, r.Privacy.Embed
	}
	if r.Pictures != nil {
		v.PictureBaseLink = r.Pictures.BaseLink
		for _, s := range r.Pictures.Sizes {
			v.Pictures = append(v.Pictures, Picture{Width: int(s.Width), Height: int(s.Height), Link: s.Link})
		}
	}
	for _, t := range r.Tags {
		name := t.Name
		if name == "" {
			name = t.Tag
		}
		if name != "" {
			v.Tags = append(v.Tags, name)
		}
	}
	if r.Upload != nil {
		v.UploadStatus = r.Upload.Status
	}
	if r.Transcode != nil {
		v.TranscodeStatus = r.Transcode.Status
	}
	if r.IsPlayable != nil {
		v.IsPlayable = *r.IsPlayable
	}
	if v.ID == "" && v.Link != "" { // defensive: a body without uri
		v.ID = idFromLink(v.Link)
	}
	if v.Hash == "" {
		v.Hash = hashFromLink(v.Link, v.ID)
	}
	if v.Hash == "" {
		v.Hash = hashFromEmbed(v.PlayerEmbedURL)
	}
	for _, p := range []json.RawMessage{r.ParentFolder, r.ParentProject} {
		p = bytes.TrimSpace(p)
		if len(p) == 0 {
			continue
		}
		v.ParentKnown = true
		if string(p) == "null" {
			continue
		}
		var ref struct {
			URI string `json:"uri"`
		}
		if json.Unmarshal(p, &ref) == nil && ref.URI != "" {
			v.ParentURI = ref.URI
			_, v.ParentID = parseFolderURI(ref.URI)
			break
		}
	}
	return nil
}

type rawUser struct {
	URI         string   `json:"uri"`
	Name        string   `json:"name"`
	Link        string   `json:"link"`
	Account     string   `json:"account"`
	CreatedTime flexTime `json:"created_time"`
	Metadata    *struct {
		Connections map[string]*rawConn `json:"connections"`
	} `json:"metadata"`
}

// UnmarshalJSON decodes a Vimeo user object.
func (u *User) UnmarshalJSON(b []byte) error {
	var r rawUser
	if err := json.Unmarshal(bytes.TrimPrefix(b, utf8BOM), &r); err != nil {
		return err
	}
	*u = User{URI: r.URI, Name: r.Name, Link: r.Link, Account: r.Account, CreatedTime: r.CreatedTime.Time}
	u.ID = strings.TrimPrefix(r.URI, "/users/")
	if i := strings.IndexByte(u.ID, '/'); i >= 0 {
		u.ID = u.ID[:i]
	}
	if r.Metadata != nil {
		get := func(k string) string {
			if c := r.Metadata.Connections[k]; c != nil {
				return c.URI
			}
			return ""
		}
		u.FoldersURI, u.FoldersRootURI = get("folders"), get("folders_root")
		u.ProjectsURI, u.VideosURI = get("projects"), get("videos")
	}
	return nil
}

// UnmarshalJSON decodes one {type, folder|video|…} envelope. Unknown types
// decode without error and with Folder and Video nil.
func (it *Item) UnmarshalJSON(b []byte) error {
	var env struct {
		Type      string  `json:"type"`
		Folder    *Folder `json:"folder"`
		Video     *Video  `json:"video"`
		LiveEvent *struct {
			URI string `json:"uri"`
		} `json:"live_event"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(b, utf8BOM), &env); err != nil {
		return fmt.Errorf("%s item: %w", env.Type, err)
	}
	*it = Item{Type: env.Type}
	switch env.Type {
	case "folder":
		if env.Folder != nil {
			it.Folder, it.URI = env.Folder, env.Folder.URI
		}
	case "video":
		if env.Video != nil {
			it.Video, it.URI = env.Video, env.Video.URI
		}
	case "live_event":
		if env.LiveEvent != nil {
			it.URI = env.LiveEvent.URI
		}
	default: // a type we do not know: keep its uri, if it has one
		var other map[string]json.RawMessage
		if json.Unmarshal(b, &other) == nil {
			var ref struct {
				URI string `json:"uri"`
			}
			if raw, ok := other[env.Type]; ok && json.Unmarshal(raw, &ref) == nil {
				it.URI = ref.URI
			}
		}
	}
	return nil
}

type rawPage[T any] struct {
	Total   flexInt `json:"total"`
	Page    flexInt `json:"page"`
	PerPage flexInt `json:"per_page"`
	Paging  *struct {
		Next     *string `json:"next"`
		Previous *string `json:"previous"`
		First    *string `json:"first"`
		Last     *string `json:"last"`
	} `json:"paging"`
	Data *[]T `json:"data"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// UnmarshalJSON decodes a collection envelope. A body without a data array is an
// error: it is not a collection.
func (p *Page[T]) UnmarshalJSON(b []byte) error {
	var r rawPage[T]
	if err := json.Unmarshal(bytes.TrimPrefix(b, utf8BOM), &r); err != nil {
		return err
	}
	if r.Data == nil {
		return fmt.Errorf("collection without data")
	}
	*p = Page[T]{Total: int(r.Total), Page: int(r.Page), PerPage: int(r.PerPage), Data: *r.Data}
	if r.Paging != nil {
		p.Paging = Paging{Next: deref(r.Paging.Next), Previous: deref(r.Paging.Previous),
			First: deref(r.Paging.First), Last: deref(r.Paging.Last)}
	}
	return nil
}

// ----- identifiers -----

// parseFolderURI splits /users/{owner}/projects/{id} (also /me/projects/{id},
// /users/{owner}/folders/{id}) into owner and id; unknown shapes give "", "".
func parseFolderURI(uri string) (owner, id string) {
	u := strings.Trim(uri, "/")
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	parts := strings.Split(u, "/")
	for i := 0; i+1 < len(parts); i++ {
		if c, ok := tree.CanonicalID(parts[i+1]); ok && (parts[i] == "projects" || parts[i] == "folders") {
			id = c
			if i >= 2 && (parts[i-2] == "users" || parts[i-2] == "user") {
				owner = parts[i-1]
			}
			return owner, id
		}
	}
	return "", ""
}

// parseVideoURI splits /videos/{id} or /videos/{id}:{hash}.
func parseVideoURI(uri string) (id, hash string) {
	u := strings.TrimPrefix(uri, "/videos/")
	if u == uri {
		return "", ""
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	id, hash, _ = strings.Cut(u, ":")
	id, ok := tree.CanonicalID(id)
	if !ok {
		return "", ""
	}
	return id, hash
}

// hashFromLink takes the hash from https://vimeo.com/{id}/{hash}.
func hashFromLink(link, id string) string {
	if link == "" || id == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) == 2 && parts[0] == id && isHashLike(parts[1]) {
		return parts[1]
	}
	return ""
}

func idFromLink(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) >= 1 {
		if id, ok := tree.CanonicalID(parts[0]); ok {
			return id
		}
	}
	return ""
}

// hashFromEmbed takes the h parameter of a player_embed_url.
func hashFromEmbed(embed string) string {
	if embed == "" {
		return ""
	}
	u, err := url.Parse(embed)
	if err != nil {
		return ""
	}
	if h := u.Query().Get("h"); isHashLike(h) {
		return h
	}
	return ""
}

func isHashLike(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// FolderID returns the folder id of a folder URI or a bare id, or "" if ref is
// neither.
func FolderID(ref string) string {
	if id, ok := tree.CanonicalID(ref); ok {
		return id
	}
	_, id := parseFolderURI(ref)
	return id
}

// VideoID returns the video id (without hash) of a video URI, "id", or
// "id:hash", or "" if ref is none of them.
func VideoID(ref string) string {
	if id, _ := parseVideoURI(ref); id != "" {
		return id
	}
	id, _, _ := strings.Cut(ref, ":")
	if id, ok := tree.CanonicalID(id); ok {
		return id
	}
	return ""
}
