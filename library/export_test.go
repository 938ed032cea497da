package library

import "github.com/vidlib/vidlib/tree"

// GenerationSnapshot is the snapshot of the loaded generation (nil before
// the first), for tests that compare generations.
func GenerationSnapshot(s *Service) *tree.Snapshot {
	if st := s.cur.Load(); st != nil {
		return st.snap
	}
	return nil
}

// SearchWarm reports whether the search warmer is idle and the served
// generation's search index is built.
func SearchWarm(s *Service) bool {
	s.warmer.mu.Lock()
	defer s.warmer.mu.Unlock()
	st := s.cur.Load()
	return !s.warmer.running && st != nil && st.searchBuilt.Load()
}
