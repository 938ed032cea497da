package vimeosource

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo"
)

var (
	_ tree.Source       = (*Source)(nil)
	_ tree.FolderWalker = (*Source)(nil)
)

// ErrNoParent: Vimeo answered for a video without saying which folder it is
// in (neither parent_folder nor parent_project), so the mirror cannot place
// it and must not conclude that it left the root.
var ErrNoParent = errors.New("vimeosource: video without parent folder")

// DefaultFolderPollInterval is how often Changes also reads the folder list
// (which has no conditional request and so always costs a call).
const DefaultFolderPollInterval = 2 * time.Minute

// Options configure a Source. The zero value is valid.
type Options struct {
	// Walk tunes the reconciliation walk (nil: the client's defaults).
	Walk *vimeo.WalkOptions
	// UserID whose videos and folders Changes polls; default the client's
	// user. For a team library use the owner's id.
	UserID string
	// FolderPollInterval is how often Changes reads the folder list besides the
	// videos (new folders, renames, folders moved out of the root). The video
	// list costs one call when nothing changed (304); the folder list always
	// costs one, so it is read at most this often. Default 2 minutes; negative
	// means on every poll.
	FolderPollInterval time.Duration
	// MaxPages bounds the pages one poll reads per list (default 20); beyond
	// it the poll is Truncated and a reconciliation should follow.
	MaxPages int
	// Now is the clock for FolderPollInterval; nil means time.Now.
	Now func() time.Time
}

// Source is tree.Source over a vimeo.Client, for the subtree of one root
// folder. It is safe for concurrent use.
type Source struct {
	c    *vimeo.Client
	root string
	opts Options
}

// New returns a Source that mirrors the folder rootID (a Vimeo folder id) of
// the client's account.
func New(c *vimeo.Client, rootID string, opts *Options) (*Source, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: vimeosource needs a client", tree.ErrInvalid)
	}
	if vimeo.FolderID(rootID) == "" {
		return nil, fmt.Errorf("%w: root folder id %q", tree.ErrInvalid, rootID)
	}
	s := &Source{c: c, root: vimeo.FolderID(rootID)}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.FolderPollInterval == 0 {
		s.opts.FolderPollInterval = DefaultFolderPollInterval
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	return s, nil
}

// RootVimeoID returns the mirrored root folder's id.
func (s *Source) RootVimeoID() string { return s.root }

// Walk implements tree.Source: vimeo.Client.Walk from the root. The walk is
// Complete for the mirror only when Vimeo's walk is complete and consistent
// (Trustworthy).
func (s *Source) Walk(ctx context.Context) (*tree.Walk, error) { return s.walk(ctx, s.root) }

// WalkFolder implements tree.FolderWalker: vimeo.Client.Walk from one folder
// of the mirrored tree; the folder is the walk's root.
func (s *Source) WalkFolder(ctx context.Context, folderVimeoID string) (*tree.Walk, error) {
	return s.walk(ctx, folderVimeoID)
}

func (s *Source) walk(ctx context.Context, root string) (*tree.Walk, error) {
	res, err := s.c.Walk(ctx, root, s.opts.Walk)
	if err != nil {
		return nil, translate(err)
	}
	folders, videos, placements := FromWalk(res)
	w := &tree.Walk{
		RootVimeoID: res.RootID, Folders: folders, Videos: videos, Placements: placements,
		Complete: res.Trustworthy(), Problems: append([]string(nil), res.Problems...), Calls: res.Calls,
		StartedAt: res.StartedAt,
	}
	for _, f := range res.Failures {
		w.Problems = append(w.Problems, fmt.Sprintf("folder %s (%s) not listed: %s", f.FolderID, f.Name, f.Reason))
	}
	return w, nil
}

// Video implements tree.Source: GET /videos/{id}.
func (s *Source) Video(ctx context.Context, vimeoID string) (*tree.RemoteVideo, error) {
	v, err := s.c.Video(ctx, vimeoID)
	if err != nil {
		return nil, translate(err)
	}
	if !v.ParentKnown {
		return nil, fmt.Errorf("%w: video %s", ErrNoParent, vimeoID)
	}
	return &tree.RemoteVideo{Video: FromVideo(v), FolderVimeoID: v.ParentID, Calls: 1}, nil
}

// Folder implements tree.Source: GET /users/{uid}/projects/{id}, with its
// ancestor path.
func (s *Source) Folder(ctx context.Context, vimeoID string) (*tree.RemoteFolder, error) {
	f, err := s.c.Folder(ctx, vimeoID)
	if err != nil {
		return nil, translate(err)
	}
	rf := FromFolder(f)
	rf.Calls = 1
	return &rf, nil
}

// Changes implements tree.Source: vimeo.Client.Recent with the cursor's
// watermarks and Last-Modified (If-Modified-Since), plus the folder list when
// FolderPollInterval has passed since the cursor's last folder read.
func (s *Source) Changes(ctx context.Context, since tree.Cursor) (*tree.Changes, error) {
	now := s.opts.Now()
	folders := s.opts.FolderPollInterval < 0 || since.FoldersPolledAt.IsZero() ||
		now.Sub(since.FoldersPolledAt) >= s.opts.FolderPollInterval
	res, err := s.c.Recent(ctx, &vimeo.RecentOptions{
		UserID: s.opts.UserID, Since: since.VideosSince, LastModified: since.LastModified,
		Folders: folders, FolderSince: since.FoldersSince, MaxPages: s.opts.MaxPages,
	})
	if err != nil {
		return nil, translate(err)
	}
	out := &tree.Changes{
		NotModified: res.NotModified, Truncated: res.Truncated, Calls: res.Calls,
		Next: tree.Cursor{VideosSince: res.Watermark, LastModified: res.LastModified,
			FoldersSince: since.FoldersSince, FoldersPolledAt: since.FoldersPolledAt},
	}
	if out.Next.VideosSince.IsZero() {
		out.Next.VideosSince = since.VideosSince
	}
	if folders {
		out.Next.FoldersSince, out.Next.FoldersPolledAt = res.FolderWatermark, now
		if out.Next.FoldersSince.IsZero() {
			out.Next.FoldersSince = since.FoldersSince
		}
	}
	for i := range res.Videos {
		v := &res.Videos[i]
		out.Videos = append(out.Videos, tree.RemoteVideo{Video: FromVideo(v), FolderVimeoID: v.ParentID, FolderUnknown: !v.ParentKnown})
	}
	for i := range res.Folders {
		out.Folders = append(out.Folders, FromFolder(&res.Folders[i]))
	}
	return out, nil
}

// translate maps Vimeo's 404 and 403 onto the tree's sentinels, keeping the
// original error in the chain.
func translate(err error) error {
	switch {
	case errors.Is(err, vimeo.ErrNotFound):
		return fmt.Errorf("%w: %w", tree.ErrNotFound, err)
	case errors.Is(err, vimeo.ErrForbidden):
		return fmt.Errorf("%w: %w", tree.ErrForbidden, err)
	}
	return err
}
