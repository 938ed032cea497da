package tree

// CachedSnapshot is the mirror's cached snapshot (nil when it has none), for
// tests that check it against the store.
func CachedSnapshot(m *Mirror) *Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cache
}
