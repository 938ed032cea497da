package vimeo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// StopPaging, returned by a page callback, ends the listing early without error.
//
//lint:ignore ST1012 a control value like filepath.SkipAll, not a failure
var StopPaging = errors.New("vimeo: stop paging") //nolint:staticcheck // a control value like filepath.SkipAll, not a failure

// Field lists sent with every request. Vimeo grants a higher rate limit to
// requests that use fields=, and the bodies shrink a lot.
var (
	UserFields = []string{
		"uri", "name", "link", "account", "created_time",
		"metadata.connections.folders.uri", "metadata.connections.folders_root.uri",
		"metadata.connections.projects.uri", "metadata.connections.videos.uri",
	}
	FolderFields = []string{
		"uri", "name", "created_time", "modified_time", "last_user_action_event_date",
		"resource_key", "link", "privacy.view",
		"metadata.connections.items.uri", "metadata.connections.items.total",
		"metadata.connections.videos.total", "metadata.connections.folders.total",
		"metadata.connections.parent_folder.uri",
		"metadata.connections.ancestor_path.uri", "metadata.connections.ancestor_path.name",
	}
	VideoFields = []string{
		"uri", "name", "description", "type", "duration", "width", "height", "language",
		"link", "player_embed_url", "created_time", "modified_time", "release_time",
		"last_user_action_event_date", "privacy.view", "privacy.embed",
		"pictures.base_link", "pictures.sizes.width", "pictures.sizes.height", "pictures.sizes.link",
		"tags.name",
		"status", "upload.status", "transcode.status", "is_playable", "resource_key",
		"parent_folder.uri", "parent_project.uri",
	}
	// ItemFields is used on /items: the envelope's type plus the folder and
	// video fields the walk needs. Parents come from the listing folder.
	ItemFields = itemFields()
)

func itemFields() []string {
	out := []string{"type"}
	for _, f := range []string{"uri", "name", "created_time", "modified_time", "privacy.view",
		"metadata.connections.items.uri", "metadata.connections.items.total"} {
		out = append(out, "folder."+f)
	}
	for _, f := range VideoFields {
		if strings.HasPrefix(f, "parent_") {
			continue
		}
		out = append(out, "video."+f)
	}
	return out
}

func fieldsParam(fields []string) string { return strings.Join(fields, ",") }

// ListOptions narrows a collection request. The zero value lists everything in
// Vimeo's default order with the package's field lists.
type ListOptions struct {
	Sort      string   // e.g. "date", "alphabetical", "modified_time"
	Direction string   // "asc" or "desc"
	Filter    string   // e.g. "folder" or "video" on /items
	Query     string   // name search, where supported
	Fields    []string // replaces the default field list
	PerPage   int      // 1..100; default the client's page size
	Extra     url.Values
}

func (c *Client) listURL(path string, defFields []string, o *ListOptions) (string, error) {
	q := url.Values{}
	fields := defFields
	perPage := c.pageSize
	if o != nil {
		if len(o.Fields) > 0 {
			fields = o.Fields
		}
		if o.PerPage != 0 {
			if o.PerPage < 1 || o.PerPage > MaxPerPage {
				return "", fmt.Errorf("%w: per_page %d", ErrInvalidArgument, o.PerPage)
			}
			perPage = o.PerPage
		}
		set := func(k, v string) {
			if v != "" {
				q.Set(k, v)
			}
		}
		set("sort", o.Sort)
		set("direction", o.Direction)
		set("filter", o.Filter)
		set("query", o.Query)
		for k, vs := range o.Extra {
			q[k] = append([]string(nil), vs...)
		}
	}
	q.Set("fields", fieldsParam(fields))
	q.Set("per_page", strconv.Itoa(perPage))
	return path + "?" + q.Encode(), nil
}

// nextLink returns the URL of the next page: Vimeo's paging.next, with fields and
// per_page restored if the link dropped them. A link that does not move forward
// is a malformed response (it would loop).
func nextLink(next, prev string) (string, error) {
	if next == "" {
		return "", nil
	}
	nu, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("%w: paging.next %q", ErrBadResponse, next)
	}
	pu, _ := url.Parse(prev)
	q := nu.Query()
	changed := false
	for _, k := range []string{"fields", "per_page"} {
		if q.Get(k) == "" && pu != nil && pu.Query().Get(k) != "" {
			q.Set(k, pu.Query().Get(k))
			changed = true
		}
	}
	if changed {
		nu.RawQuery = q.Encode()
	}
	if pageOf(nu.String()) <= pageOf(prev) {
		return "", fmt.Errorf("%w: paging.next %q does not advance past page %d", ErrBadResponse, next, pageOf(prev))
	}
	return nu.String(), nil
}

// maxPages guards against a server that never stops paging.
const maxPages = 100000

func paginate[T any](ctx context.Context, c *Client, first string, cl *call, fn func(*Page[T]) error) error {
	next := first
	for i := 0; next != ""; i++ {
		if i >= maxPages {
			return fmt.Errorf("%w: more than %d pages", ErrBadResponse, maxPages)
		}
		var p Page[T]
		if _, err := c.do(ctx, next, cl, &p); err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			if errors.Is(err, StopPaging) {
				return nil
			}
			return err
		}
		n, err := nextLink(p.Paging.Next, next)
		if err != nil {
			return err
		}
		next = n
	}
	return nil
}

// Me returns the authenticated user.
func (c *Client) Me(ctx context.Context) (*User, error) { return c.User(ctx, "me") }

// User returns a user by id (or "me").
func (c *Client) User(ctx context.Context, uid string) (*User, error) {
	p, err := c.userPath(uid)
	if err != nil {
		return nil, err
	}
	var u User
	if _, err := c.do(ctx, p+"?fields="+url.QueryEscape(fieldsParam(UserFields)), &call{}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

func (c *Client) userPath(uid string) (string, error) {
	switch {
	case uid == "" || uid == "me":
		if c.userID != "me" {
			return "/users/" + c.userID, nil
		}
		return "/me", nil
	case isDigits(uid):
		return "/users/" + uid, nil
	}
	return "", fmt.Errorf("%w: user id %q", ErrInvalidArgument, uid)
}

// folderPath turns a folder id or URI into the folder's API path.
func (c *Client) folderPath(ref string) (string, error) {
	if strings.HasPrefix(ref, "/") {
		owner, id := parseFolderURI(ref)
		if id == "" {
			return "", fmt.Errorf("%w: folder URI %q", ErrInvalidArgument, ref)
		}
		if owner == "" {
			return "/me/projects/" + id, nil
		}
		return "/users/" + owner + "/projects/" + id, nil
	}
	if !isDigits(ref) {
		return "", fmt.Errorf("%w: folder id %q", ErrInvalidArgument, ref)
	}
	up, _ := c.userPath("me")
	return up + "/projects/" + ref, nil
}

// Folder returns one folder by id or URI (/users/{owner}/projects/{id}). Team
// folders must be addressed by URI, because they live under the owner's id.
func (c *Client) Folder(ctx context.Context, ref string) (*Folder, error) {
	p, err := c.folderPath(ref)
	if err != nil {
		return nil, err
	}
	var f Folder
	if _, err := c.do(ctx, p+"?fields="+url.QueryEscape(fieldsParam(FolderFields)), &call{}, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// videoPath accepts "id", "id:hash", "/videos/id" and "/videos/id:hash".
func videoPath(ref string) (string, error) {
	s := strings.TrimPrefix(ref, "/videos/")
	id, hash, _ := strings.Cut(s, ":")
	if !isDigits(id) || (hash != "" && !isHashLike(hash)) {
		return "", fmt.Errorf("%w: video %q", ErrInvalidArgument, ref)
	}
	if hash != "" {
		return "/videos/" + id + ":" + hash, nil
	}
	return "/videos/" + id, nil
}

// Video returns one video by id, "id:hash" or URI. The answer carries the
// video's parent folder when Vimeo includes parent_folder or parent_project.
func (c *Client) Video(ctx context.Context, ref string) (*Video, error) {
	return c.video(ctx, ref, &call{})
}

func (c *Client) video(ctx context.Context, ref string, cl *call) (*Video, error) {
	p, err := videoPath(ref)
	if err != nil {
		return nil, err
	}
	var v Video
	if _, err := c.do(ctx, p+"?fields="+url.QueryEscape(fieldsParam(VideoFields)), cl, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// FolderItems pages through the direct children of a folder (id or URI) and
// calls fn for every page. Items of unknown types are kept in the page (with
// Folder and Video nil) so that counts can be checked against Total; skip them.
func (c *Client) FolderItems(ctx context.Context, ref string, opts *ListOptions, fn func(*Page[Item]) error) error {
	p, err := c.folderPath(ref)
	if err != nil {
		return err
	}
	first, err := c.listURL(p+"/items", ItemFields, opts)
	if err != nil {
		return err
	}
	return paginate(ctx, c, first, &call{}, fn)
}

// Folders pages through a user's folder list, GET /users/{uid}/projects (uid
// "me" or "" for the client's user).
func (c *Client) Folders(ctx context.Context, uid string, opts *ListOptions, fn func(*Page[Folder]) error) error {
	up, err := c.userPath(uid)
	if err != nil {
		return err
	}
	first, err := c.listURL(up+"/projects", FolderFields, opts)
	if err != nil {
		return err
	}
	return paginate(ctx, c, first, &call{}, fn)
}

// Videos pages through a user's videos, GET /users/{uid}/videos.
func (c *Client) Videos(ctx context.Context, uid string, opts *ListOptions, fn func(*Page[Video]) error) error {
	up, err := c.userPath(uid)
	if err != nil {
		return err
	}
	first, err := c.listURL(up+"/videos", VideoFields, opts)
	if err != nil {
		return err
	}
	return paginate(ctx, c, first, &call{}, fn)
}
