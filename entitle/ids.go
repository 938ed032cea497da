package entitle

// idMap maps Vimeo ids to dense indexes. Vimeo ids are decimal numbers, and a
// map keyed by their value is about twice as fast on a cold cache as one keyed
// by the string; an id that is not a canonical decimal uint64 (leading zero,
// too long, not digits) goes to a string map, so every id stays distinct.
type idMap struct {
	num map[uint64]int32
	str map[string]int32
}

func newIDMap(n int) idMap {
	return idMap{num: make(map[uint64]int32, n), str: make(map[string]int32)}
}

func (m idMap) put(id string, i int32) {
	if n, ok := decimalID(id); ok {
		m.num[n] = i
		return
	}
	m.str[id] = i
}

func (m idMap) get(id string) (int32, bool) {
	if n, ok := decimalID(id); ok {
		i, ok := m.num[n]
		return i, ok
	}
	i, ok := m.str[id]
	return i, ok
}

// decimalID parses a canonical decimal uint64: digits only, no leading zero,
// no overflow.
func decimalID(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 19 || (s[0] == '0' && len(s) > 1) {
		return 0, false // 19 digits always fit in a uint64
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + uint64(c)
	}
	return n, true
}
