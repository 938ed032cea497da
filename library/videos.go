package library

import "context"

// VisibleVideos calls fn, in order, with the summary of each of ids that the
// viewer may watch now, until fn returns false; unknown, malformed and
// forbidden ids are skipped. It is Playback's access check (a video a
// teaser lists locked is skipped too) for many videos at once, for lists of
// ids kept outside the library (resume state, history), without building a
// detail or an error per video. It fails only when no snapshot is loaded
// yet (ErrNotReady).
func (s *Service) VisibleVideos(_ context.Context, v Viewer, ids []string, fn func(i int, video VideoSummary) bool) error {
	st, err := s.current()
	if err != nil {
		return err
	}
	view := st.idx.Visible(audienceOf(v))
	for i, id := range ids {
		vn := st.video(id)
		if vn == nil || !view.VideoAt(vn.pos) {
			continue
		}
		if !fn(i, vn.summary()) {
			return nil
		}
	}
	return nil
}
