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
