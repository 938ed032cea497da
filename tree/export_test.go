package tree

import "context"

// MirrorSnapshot is the snapshot the mirror's next run starts from: its
// cache, with what it applied since settled in memory, or a fresh load when
// the store moved behind its back.
func MirrorSnapshot(ctx context.Context, m *Mirror) (*Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshot(ctx)
}
