package vimeotest

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxDepth is Vimeo's folder nesting limit: a top-level folder is at depth 1 and
// subfolders go down to depth 10.
const MaxDepth = 10

// Errors of the account's Go API. Mutations that fail change nothing.
var (
	ErrNotFound   = errors.New("vimeotest: no such folder or video")
	ErrDepthLimit = errors.New("vimeotest: subfolder depth limit reached")
	ErrCycle      = errors.New("vimeotest: a folder cannot move into its own subtree")
	ErrInvalid    = errors.New("vimeotest: invalid value")
)

// Privacy views accepted for videos (deprecated ones included).
var videoViews = map[string]bool{"anybody": true, "nobody": true, "unlisted": true, "password": true,
	"disable": true, "contacts": true, "users": true}

// Folder is the account's view of a folder. IDs are Vimeo's numeric ids;
// ParentID 0 means top level.
type Folder struct {
	ID             int64
	Name           string
	ParentID       int64
	Created        time.Time
	Modified       time.Time
	LastUserAction time.Time
	Privacy        string // anybody | nobody | team
	ResourceKey    string
	Revoked        bool           // the token lost access to this subtree
	Zone           *time.Location // offset used when rendering timestamps; nil is UTC
}

// Video is the account's view of a video. FolderID 0 means the library root.
type Video struct {
	ID              int64
	FolderID        int64
	Name            string
	Description     string // "" renders as null
	Duration        int    // seconds; 0 while transcoding
	Width, Height   int
	Language        string // "" renders as null
	Privacy         string // anybody | nobody | unlisted | password | disable | …
	EmbedPrivacy    string // public (the default when "") | private | whitelist
	Hash            string // the unlisted hash; also the h= of player_embed_url
	Status          string // available | transcoding | transcoding_error | uploading | …
	UploadStatus    string // complete | in_progress | error
	TranscodeStatus string // complete | in_progress | error
	Created         time.Time
	Modified        time.Time
	Released        time.Time
	LastUserAction  time.Time
	PictureID       int64    // 0: no custom thumbnail yet
	Tags            []string // tag names, rendered as Vimeo's tag objects
	ResourceKey     string
	Plays           int // -1 renders stats.plays as null
	Zone            *time.Location
}

// VideoSpec describes a video to create. Zero fields get defaults: a transcoded,
// public video of 120 s created now.
type VideoSpec struct {
	Name        string
	Description string
	Duration    int
	Privacy     string // default "anybody"
	Transcode   string // "complete" (default), "in_progress" or "error"
	Tags        []string
	Created     time.Time
	Zone        *time.Location
}

// Event is a change to the account, delivered to subscribers (the webhook
// emitter is one). Vimeo sends no folder events to webhooks; folder events exist
// here for tests.
type Event struct {
	Type     string // video-created, video-updated, video-deleted, video-transcode-complete, folder-*
	VideoID  int64
	FolderID int64
	At       time.Time
}

// AccountOptions configures an Account. The zero value is valid.
type AccountOptions struct {
	UserID   int64  // default 1001
	UserName string // default "Acme Media"
	// Clock stamps every change; default the system clock.
	Clock Clock
	// BumpFolderOnVideoChange also bumps a folder's modified_time when a video
	// is added to, removed from or moved in/out of it. Vimeo does not document
	// this; the default is off. Adding, moving in or deleting a subfolder always
	// bumps the parent (observed for adds).
	BumpFolderOnVideoChange bool
}

// Account is the fake's state: one user with a folder tree and videos. All
// methods are safe for concurrent use; the server reads it under the same lock,
// so a mutation made during a walk shifts later pages exactly as on Vimeo.
type Account struct {
	mu       sync.RWMutex
	clock    Clock
	userID   int64
	userName string
	created  time.Time
	bumpVid  bool

	folders   map[int64]*Folder
	videos    map[int64]*Video
	subs      map[int64]map[int64]bool // parent (0 = root) → subfolders
	vids      map[int64]map[int64]bool // folder (0 = root) → videos
	nextF     int64
	nextV     int64
	nextPic   int64
	version   uint64
	lastVideo time.Time // last change to any video (create, edit, move, delete)

	listeners []func(Event)
}

// NewAccount returns an empty account.
func NewAccount(opts *AccountOptions) *Account {
	var o AccountOptions
	if opts != nil {
		o = *opts
	}
	if o.UserID <= 0 {
		o.UserID = 1001
	}
	if o.UserName == "" {
		o.UserName = "Acme Media"
	}
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	now := o.Clock.Now().UTC().Truncate(time.Second)
	return &Account{
		clock: o.Clock, userID: o.UserID, userName: o.UserName, created: now.AddDate(-3, 0, 0),
		bumpVid: o.BumpFolderOnVideoChange,
		folders: map[int64]*Folder{}, videos: map[int64]*Video{},
		subs: map[int64]map[int64]bool{}, vids: map[int64]map[int64]bool{},
		nextF: 15_000_000, nextV: 900_000_000, nextPic: 1_700_000_000, lastVideo: now,
	}
}

// UserID returns the owner's user id.
func (a *Account) UserID() int64 { return a.userID }

// Clock returns the account's clock.
func (a *Account) Clock() Clock { return a.clock }

// Subscribe registers fn for every change. fn runs after the change, outside the
// account lock.
func (a *Account) Subscribe(fn func(Event)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.listeners = append(a.listeners, fn)
}

func (a *Account) now() time.Time { return a.clock.Now().UTC().Truncate(time.Second) }

func (a *Account) emit(evs ...Event) {
	a.mu.RLock()
	ls := append([]func(Event){}, a.listeners...)
	a.mu.RUnlock()
	for _, e := range evs {
		for _, l := range ls {
			l(e)
		}
	}
}

func resourceKey(kind string, id int64) string {
	h := sha1.Sum([]byte(kind + strconv.FormatInt(id, 10)))
	return hex.EncodeToString(h[:])
}

func videoHash(id int64) string {
	h := sha1.Sum([]byte("hash" + strconv.FormatInt(id, 10)))
	return hex.EncodeToString(h[:])[:10]
}

func addTo(m map[int64]map[int64]bool, parent, id int64) {
	if m[parent] == nil {
		m[parent] = map[int64]bool{}
	}
	m[parent][id] = true
}

// depthLocked returns the depth of folder id (1 for top level).
func (a *Account) depthLocked(id int64) int {
	d := 0
	for cur := id; cur != 0; cur = a.folders[cur].ParentID {
		d++
	}
	return d
}

// heightLocked returns the depth of the deepest folder of id's subtree, counted
// from id (1 when id has no subfolders).
func (a *Account) heightLocked(id int64) int {
	h := 0
	for c := range a.subs[id] {
		h = max(h, a.heightLocked(c))
	}
	return h + 1
}

func (a *Account) touchFolderLocked(id int64, t time.Time) {
	if f := a.folders[id]; f != nil {
		f.Modified, f.LastUserAction = t, t
	}
}

// CreateFolder creates a folder under parentID (0 for top level) and returns its
// id. The parent's modified_time becomes the new folder's creation time, as
// observed on Vimeo.
func (a *Account) CreateFolder(parentID int64, name string) (int64, error) {
	return a.createFolder(parentID, name, time.Time{}, nil)
}

func (a *Account) createFolder(parentID int64, name string, created time.Time, zone *time.Location) (int64, error) {
	a.mu.Lock()
	if parentID != 0 && a.folders[parentID] == nil {
		a.mu.Unlock()
		return 0, fmt.Errorf("%w: parent folder %d", ErrNotFound, parentID)
	}
	if parentID != 0 && a.depthLocked(parentID)+1 > MaxDepth {
		a.mu.Unlock()
		return 0, fmt.Errorf("%w: parent %d is at depth %d", ErrDepthLimit, parentID, MaxDepth)
	}
	now := a.now()
	if created.IsZero() {
		created = now
	}
	created = created.UTC().Truncate(time.Second)
	a.nextF++
	id := a.nextF
	a.folders[id] = &Folder{ID: id, Name: name, ParentID: parentID, Created: created, Modified: created,
		LastUserAction: created, Privacy: "nobody", ResourceKey: resourceKey("folder", id), Zone: zone}
	addTo(a.subs, parentID, id)
	if parentID != 0 {
		a.touchFolderLocked(parentID, created)
	}
	a.version++
	a.mu.Unlock()
	a.emit(Event{Type: "folder-created", FolderID: id, At: created})
	return id, nil
}

// CreateVideo creates a video in folderID (0 for the library root).
func (a *Account) CreateVideo(folderID int64, spec VideoSpec) (int64, error) {
	if spec.Privacy == "" {
		spec.Privacy = "anybody"
	}
	if !videoViews[spec.Privacy] {
		return 0, fmt.Errorf("%w: privacy %q", ErrInvalid, spec.Privacy)
	}
	switch spec.Transcode {
	case "":
		spec.Transcode = "complete"
	case "complete", "in_progress", "error":
	default:
		return 0, fmt.Errorf("%w: transcode status %q", ErrInvalid, spec.Transcode)
	}
	a.mu.Lock()
	if folderID != 0 && a.folders[folderID] == nil {
		a.mu.Unlock()
		return 0, fmt.Errorf("%w: folder %d", ErrNotFound, folderID)
	}
	now := a.now()
	created := spec.Created
	if created.IsZero() {
		created = now
	}
	created = created.UTC().Truncate(time.Second)
	a.nextV++
	id := a.nextV
	v := &Video{ID: id, FolderID: folderID, Name: spec.Name, Description: spec.Description,
		Duration: spec.Duration, Width: 1920, Height: 1080, Privacy: spec.Privacy, Hash: videoHash(id),
		Created: created, Modified: created, Released: created, LastUserAction: created,
		ResourceKey: resourceKey("video", id), Plays: 0, Zone: spec.Zone, Tags: slices.Clone(spec.Tags)}
	if v.Duration <= 0 {
		v.Duration = 120
	}
	a.setTranscodeLocked(v, spec.Transcode)
	a.videos[id] = v
	addTo(a.vids, folderID, id)
	if a.bumpVid && folderID != 0 {
		a.touchFolderLocked(folderID, created)
	}
	a.lastVideo = maxTime(a.lastVideo, created)
	a.version++
	a.mu.Unlock()
	a.emit(Event{Type: "video-created", VideoID: id, FolderID: folderID, At: created})
	return id, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (a *Account) setTranscodeLocked(v *Video, status string) {
	v.TranscodeStatus = status
	switch status {
	case "complete":
		v.Status, v.UploadStatus = "available", "complete"
		if v.PictureID == 0 {
			a.nextPic++
			v.PictureID = a.nextPic
		}
		if v.Duration <= 0 {
			v.Duration = 60 + int(v.ID%600)
		}
	case "in_progress":
		v.Status, v.UploadStatus = "transcoding", "complete"
		v.Duration = 0
		v.PictureID = 0
	case "error":
		v.Status, v.UploadStatus = "transcoding_error", "complete"
		v.Duration = 0
		v.PictureID = 0
	}
}

// RenameFolder renames a folder and bumps its modified_time.
func (a *Account) RenameFolder(id int64, name string) error {
	a.mu.Lock()
	f := a.folders[id]
	if f == nil {
		a.mu.Unlock()
		return fmt.Errorf("%w: folder %d", ErrNotFound, id)
	}
	now := a.now()
	f.Name = name
	f.Modified, f.LastUserAction = now, now
	a.version++
	a.mu.Unlock()
	a.emit(Event{Type: "folder-updated", FolderID: id, At: now})
	return nil
}

// editVideo applies fn to video id, bumps its modified_time and emits typ.
func (a *Account) editVideo(id int64, typ string, fn func(v *Video) error) error {
	a.mu.Lock()
	v := a.videos[id]
	if v == nil {
		a.mu.Unlock()
		return fmt.Errorf("%w: video %d", ErrNotFound, id)
	}
	if err := fn(v); err != nil {
		a.mu.Unlock()
		return err
	}
	now := a.now()
	v.Modified, v.LastUserAction = now, now
	a.lastVideo = maxTime(a.lastVideo, now)
	a.version++
	folder := v.FolderID
	a.mu.Unlock()
	a.emit(Event{Type: typ, VideoID: id, FolderID: folder, At: now})
	return nil
}

// RenameVideo renames a video.
func (a *Account) RenameVideo(id int64, name string) error {
	return a.editVideo(id, "video-updated", func(v *Video) error { v.Name = name; return nil })
}

// SetTags replaces a video's tags.
func (a *Account) SetTags(id int64, tags ...string) error {
	return a.editVideo(id, "video-updated", func(v *Video) error { v.Tags = slices.Clone(tags); return nil })
}

// SetPrivacy changes a video's privacy.view. Unlisted videos carry their hash in
// uri and link; others do not (player_embed_url always has h=).
func (a *Account) SetPrivacy(id int64, view string) error {
	if !videoViews[view] {
		return fmt.Errorf("%w: privacy %q", ErrInvalid, view)
	}
	return a.editVideo(id, "video-updated", func(v *Video) error { v.Privacy = view; return nil })
}

// SetEmbedPrivacy changes a video's privacy.embed: public, private or
// whitelist.
func (a *Account) SetEmbedPrivacy(id int64, embed string) error {
	switch embed {
	case "public", "private", "whitelist":
	default:
		return fmt.Errorf("%w: embed privacy %q", ErrInvalid, embed)
	}
	return a.editVideo(id, "video-updated", func(v *Video) error { v.EmbedPrivacy = embed; return nil })
}

// SetTranscode changes a video's transcode state: "in_progress", "complete"
// (duration and pictures appear, status available) or "error".
func (a *Account) SetTranscode(id int64, status string) error {
	switch status {
	case "complete", "in_progress", "error":
	default:
		return fmt.Errorf("%w: transcode status %q", ErrInvalid, status)
	}
	typ := "video-updated"
	if status == "complete" {
		typ = "video-transcode-complete"
	}
	return a.editVideo(id, typ, func(v *Video) error { a.setTranscodeLocked(v, status); return nil })
}

// MoveVideo puts a video in folderID (0: the library root). A video lives in one
// folder only. Its modified_time and last_user_action_event_date bump.
func (a *Account) MoveVideo(id, folderID int64) error {
	var from int64
	err := a.editVideo(id, "video-updated", func(v *Video) error {
		if folderID != 0 && a.folders[folderID] == nil {
			return fmt.Errorf("%w: folder %d", ErrNotFound, folderID)
		}
		from = v.FolderID
		delete(a.vids[v.FolderID], id)
		addTo(a.vids, folderID, id)
		v.FolderID = folderID
		if a.bumpVid {
			now := a.now()
			a.touchFolderLocked(from, now)
			a.touchFolderLocked(folderID, now)
		}
		return nil
	})
	return err
}

// MoveFolder moves a folder and its subtree under newParentID (0: top level).
// The folder's uri does not change; its parent_folder and ancestor_path do; the
// old parent's items total falls, the new parent's rises and its modified_time
// bumps.
func (a *Account) MoveFolder(id, newParentID int64) error {
	a.mu.Lock()
	f := a.folders[id]
	if f == nil || (newParentID != 0 && a.folders[newParentID] == nil) {
		a.mu.Unlock()
		return fmt.Errorf("%w: folder %d or %d", ErrNotFound, id, newParentID)
	}
	for cur := newParentID; cur != 0; cur = a.folders[cur].ParentID {
		if cur == id {
			a.mu.Unlock()
			return fmt.Errorf("%w: %d into %d", ErrCycle, id, newParentID)
		}
	}
	depth := 0
	if newParentID != 0 {
		depth = a.depthLocked(newParentID)
	}
	if depth+a.heightLocked(id) > MaxDepth {
		a.mu.Unlock()
		return fmt.Errorf("%w: moving %d under %d", ErrDepthLimit, id, newParentID)
	}
	now := a.now()
	delete(a.subs[f.ParentID], id)
	addTo(a.subs, newParentID, id)
	f.ParentID = newParentID
	a.touchFolderLocked(newParentID, now)
	a.version++
	a.mu.Unlock()
	a.emit(Event{Type: "folder-moved", FolderID: id, At: now})
	return nil
}

// DeleteFolder deletes a folder and its subfolders. With deleteClips the videos
// inside are deleted too; without, they move to the library root.
func (a *Account) DeleteFolder(id int64, deleteClips bool) error {
	a.mu.Lock()
	f := a.folders[id]
	if f == nil {
		a.mu.Unlock()
		return fmt.Errorf("%w: folder %d", ErrNotFound, id)
	}
	now := a.now()
	var evs []Event
	var drop func(fid int64)
	drop = func(fid int64) {
		for c := range a.subs[fid] {
			drop(c)
		}
		for vid := range a.vids[fid] {
			if deleteClips {
				delete(a.videos, vid)
				evs = append(evs, Event{Type: "video-deleted", VideoID: vid, FolderID: fid, At: now})
			} else {
				v := a.videos[vid]
				v.FolderID = 0
				v.Modified, v.LastUserAction = now, now
				addTo(a.vids, 0, vid)
				evs = append(evs, Event{Type: "video-updated", VideoID: vid, FolderID: 0, At: now})
			}
		}
		delete(a.vids, fid)
		delete(a.subs, fid)
		delete(a.folders, fid)
		evs = append(evs, Event{Type: "folder-deleted", FolderID: fid, At: now})
	}
	parent := f.ParentID
	delete(a.subs[parent], id)
	drop(id)
	a.touchFolderLocked(parent, now)
	a.lastVideo = maxTime(a.lastVideo, now)
	a.version++
	a.mu.Unlock()
	a.emit(evs...)
	return nil
}

// DeleteVideo deletes a video.
func (a *Account) DeleteVideo(id int64) error {
	a.mu.Lock()
	v := a.videos[id]
	if v == nil {
		a.mu.Unlock()
		return fmt.Errorf("%w: video %d", ErrNotFound, id)
	}
	now := a.now()
	delete(a.vids[v.FolderID], id)
	delete(a.videos, id)
	if a.bumpVid {
		a.touchFolderLocked(v.FolderID, now)
	}
	a.lastVideo = maxTime(a.lastVideo, now)
	a.version++
	a.mu.Unlock()
	a.emit(Event{Type: "video-deleted", VideoID: id, FolderID: v.FolderID, At: now})
	return nil
}

// Revoke takes the token's access to a folder's subtree away, as when a team
// grant is removed: the folder still shows in its parent's listing and in the
// folder list, but reading it or anything below answers 403 (or 404, see
// Options.ForbiddenAs404), and its descendants vanish from the lists.
func (a *Account) Revoke(id int64) error { return a.setRevoked(id, true) }

// Restore gives access back.
func (a *Account) Restore(id int64) error { return a.setRevoked(id, false) }

func (a *Account) setRevoked(id int64, on bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.folders[id]
	if f == nil {
		return fmt.Errorf("%w: folder %d", ErrNotFound, id)
	}
	f.Revoked = on
	a.version++
	return nil
}

// blockedLocked reports whether folder id or an ancestor is revoked.
func (a *Account) blockedLocked(id int64) bool {
	for cur := id; cur != 0; {
		f := a.folders[cur]
		if f == nil {
			return false
		}
		if f.Revoked {
			return true
		}
		cur = f.ParentID
	}
	return false
}

// hiddenLocked reports whether folder id sits below a revoked folder (the
// revoked folder itself stays visible in lists).
func (a *Account) hiddenLocked(id int64) bool {
	f := a.folders[id]
	return f != nil && f.ParentID != 0 && a.blockedLocked(f.ParentID)
}

// Folder returns a copy of folder id.
func (a *Account) Folder(id int64) (Folder, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	f := a.folders[id]
	if f == nil {
		return Folder{}, false
	}
	return *f, true
}

// Video returns a copy of video id.
func (a *Account) Video(id int64) (Video, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	v := a.videos[id]
	if v == nil {
		return Video{}, false
	}
	return *v, true
}

// Folders returns copies of every folder, by id.
func (a *Account) Folders() []Folder {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]Folder, 0, len(a.folders))
	for _, f := range a.folders {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Videos returns copies of every video, by id.
func (a *Account) Videos() []Video {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]Video, 0, len(a.videos))
	for _, v := range a.videos {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Subtree returns the ids of folder id and every folder below it.
func (a *Account) Subtree(id int64) []int64 {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []int64
	var walk func(int64)
	walk = func(f int64) {
		out = append(out, f)
		for c := range a.subs[f] {
			walk(c)
		}
	}
	if a.folders[id] != nil {
		walk(id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ----- ordering -----

// entry is one child of a folder, for sorting.
type entry struct {
	folder   bool
	id       int64
	name     string
	created  time.Time
	modified time.Time
	action   time.Time
	duration int
}

func (a *Account) entryOfFolder(f *Folder) entry {
	return entry{folder: true, id: f.ID, name: f.Name, created: f.Created, modified: f.Modified, action: f.LastUserAction}
}

func (a *Account) entryOfVideo(v *Video) entry {
	return entry{id: v.ID, name: v.Name, created: v.Created, modified: v.Modified, action: v.LastUserAction, duration: v.Duration}
}

// validSorts lists the sort values each kind of collection accepts.
var validSorts = map[string]map[string]bool{
	"items":    {"": true, "default": true, "alphabetical": true, "date": true, "duration": true, "last_user_action_event_date": true},
	"projects": {"": true, "default": true, "date": true, "modified_time": true, "name": true, "pinned_on": true},
	"videos": {"": true, "default": true, "alphabetical": true, "date": true, "duration": true,
		"last_user_action_event_date": true, "likes": true, "modified_time": true, "plays": true},
}

// sortEntries orders es by sortBy and direction ("" means the default for the
// sort). "default" (and "") puts folders first, then newest first.
func sortEntries(es []entry, sortBy, direction string) {
	desc := direction == "desc"
	if direction == "" {
		desc = sortBy != "alphabetical" && sortBy != "name"
	}
	cmpTime := func(x, y time.Time) int { return x.Compare(y) }
	key := func(x, y entry) int {
		switch sortBy {
		case "alphabetical", "name":
			return strings.Compare(strings.ToLower(x.name), strings.ToLower(y.name))
		case "modified_time":
			return cmpTime(x.modified, y.modified)
		case "last_user_action_event_date":
			return cmpTime(x.action, y.action)
		case "duration":
			return x.duration - y.duration
		default: // date, pinned_on, plays, likes, default
			return cmpTime(x.created, y.created)
		}
	}
	sort.SliceStable(es, func(i, j int) bool {
		x, y := es[i], es[j]
		if sortBy == "" || sortBy == "default" {
			if x.folder != y.folder {
				return x.folder
			}
		}
		c := key(x, y)
		if c == 0 {
			c = cmpInt(x.id, y.id)
		}
		if desc {
			return c > 0
		}
		return c < 0
	})
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// childrenLocked returns the ordered children of folder id (0: library root),
// filtered by "folder"/"video" ("" for both). live_event items never exist here.
func (a *Account) childrenLocked(id int64, filter, sortBy, direction string) []entry {
	var es []entry
	if filter == "" || filter == "folder" {
		for c := range a.subs[id] {
			es = append(es, a.entryOfFolder(a.folders[c]))
		}
	}
	if filter == "" || filter == "video" {
		for v := range a.vids[id] {
			es = append(es, a.entryOfVideo(a.videos[v]))
		}
	}
	sortEntries(es, sortBy, direction)
	return es
}

// Snapshot is the ground truth for a subtree: what a perfect walk with the given
// sort would return. IDs are decimal strings, as the client reports them.
type Snapshot struct {
	Folders []SnapshotFolder
	Videos  []SnapshotVideo
}

// SnapshotFolder is one folder of a Snapshot. The root has ParentID "" and
// Position 0.
type SnapshotFolder struct {
	ID, ParentID, Name string
	Position           int
}

// SnapshotVideo is one video of a Snapshot.
type SnapshotVideo struct {
	ID, FolderID, Name string
	Position           int
	Privacy            string
	Hash               string // the embed hash (h=)
	Status             string // Vimeo's status
	Duration           int
}

// Snapshot returns the subtree of rootID as the token sees it: folders below a
// revoked folder are left out (the revoked folder itself is in).
func (a *Account) Snapshot(rootID int64, sortBy, direction string) (*Snapshot, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.folders[rootID] == nil {
		return nil, fmt.Errorf("%w: folder %d", ErrNotFound, rootID)
	}
	s := &Snapshot{}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	s.Folders = append(s.Folders, SnapshotFolder{ID: id(rootID), Name: a.folders[rootID].Name})
	queue := []int64{rootID}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if a.blockedLocked(f) {
			continue
		}
		for pos, e := range a.childrenLocked(f, "", sortBy, direction) {
			if e.folder {
				s.Folders = append(s.Folders, SnapshotFolder{ID: id(e.id), ParentID: id(f), Name: e.name, Position: pos})
				queue = append(queue, e.id)
				continue
			}
			v := a.videos[e.id]
			s.Videos = append(s.Videos, SnapshotVideo{ID: id(v.ID), FolderID: id(f), Name: v.Name, Position: pos,
				Privacy: v.Privacy, Hash: v.Hash, Status: v.Status, Duration: v.Duration})
		}
	}
	return s, nil
}

// MinWalkCalls is the fewest requests any walk of rootID's subtree can make
// with perPage items a page: one GET of the root plus ceil(items/perPage) (at
// least 1) per folder.
func (a *Account) MinWalkCalls(rootID int64, perPage int) int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.folders[rootID] == nil || perPage <= 0 {
		return 0
	}
	calls := 1
	var walk func(int64)
	walk = func(f int64) {
		n := len(a.subs[f]) + len(a.vids[f])
		calls += max(1, (n+perPage-1)/perPage)
		for c := range a.subs[f] {
			walk(c)
		}
	}
	walk(rootID)
	return calls
}
