package memstore

// newestFirst is the one filtered page of the in-memory lists and searches
// (dead letters, provider events): the items of m with ids last…1, newest
// first, whose id is below before (0: any) and that keep accepts, at most
// limit of them, cloned. It is never nil. The caller holds the lock of m.
func newestFirst[T any](m map[int64]*T, last, before int64, limit int, keep func(*T) bool, clone func(*T) T) []T {
	out := []T{}
	for id := last; id > 0 && len(out) < limit; id-- {
		x := m[id]
		if x == nil || (before > 0 && id >= before) || !keep(x) {
			continue
		}
		out = append(out, clone(x))
	}
	return out
}
