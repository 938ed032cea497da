package auth

// CachedTokens is how many verifications v holds in its cache.
func CachedTokens(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}

// WaitAudiences waits until s has written the audiences it queued.
func WaitAudiences(s *Service) {
	a := s.audiences
	a.mu.Lock()
	idle, writing := a.idle, a.writing
	a.mu.Unlock()
	if writing {
		<-idle
	}
}

// RememberedAudiences is how many users' audiences s remembers.
func RememberedAudiences(s *Service) int {
	s.audiences.mu.Lock()
	defer s.audiences.mu.Unlock()
	return len(s.audiences.last)
}
