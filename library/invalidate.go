package library

import (
	"context"
	"fmt"

	"github.com/vidlib/vidlib/entitle"
)

// Index returns the loaded generation's compiled entitlement index (with its
// tree: Index.Snapshot), for explanations. ErrNotReady before the first load.
func (s *Service) Index() (*entitle.Index, error) {
	st := s.cur.Load()
	if st == nil {
		return nil, ErrNotReady
	}
	return st.idx, nil
}

// CacheStats is the in-process cache of encoded answers of the loaded
// generation.
type CacheStats struct {
	Pages int `json:"pages"`
	Bytes int `json:"bytes"`
}

// CacheStats reports the in-process cache (zero before the first load).
func (s *Service) CacheStats() CacheStats {
	st := s.cur.Load()
	if st == nil {
		return CacheStats{}
	}
	c := st.cache.Load()
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Pages: len(c.items), Bytes: c.bytes}
}

// InvalidateVideo drops cached answers that show a video: the in-process
// cache and, in the shared cache, the pages of the folders it is placed in
// and the library root. An unknown video is ErrNotFound.
func (s *Service) InvalidateVideo(ctx context.Context, videoID string) error {
	st := s.cur.Load()
	if st == nil {
		return ErrNotReady
	}
	if st.snap.Video(videoID) == nil {
		return fmt.Errorf("%w: video %s", ErrNotFound, videoID)
	}
	st.cache.Store(newLRU(s.opts.MaxCachedPages, s.opts.MaxCachedBytes))
	if s.opts.Cache != nil {
		if err := s.opts.Cache.InvalidateFolders(ctx, st.snap.FoldersOf(videoID)...); err != nil {
			return fmt.Errorf("library: invalidate shared cache: %w", err)
		}
	}
	return nil
}

// InvalidateAll drops every cached answer: the in-process cache and, in the
// shared cache, every folder page and the library root.
func (s *Service) InvalidateAll(ctx context.Context) error {
	st := s.cur.Load()
	if st == nil {
		return ErrNotReady
	}
	st.cache.Store(newLRU(s.opts.MaxCachedPages, s.opts.MaxCachedBytes))
	if s.opts.Cache != nil {
		if err := s.opts.Cache.InvalidateFolders(ctx, st.snap.FolderIDs()...); err != nil {
			return fmt.Errorf("library: invalidate shared cache: %w", err)
		}
	}
	return nil
}
