package vimeoid

import (
	"iter"
	"maps"
	"strconv"
)

// Map maps Vimeo ids to values. The zero Map is empty and read-only: make
// one with New.
type Map[V any] struct {
	num map[uint64]V
	str map[string]V
}

// New returns an empty Map with room for about n decimal ids.
func New[V any](n int) Map[V] {
	return Map[V]{num: make(map[uint64]V, n), str: make(map[string]V)}
}

// Put sets the value of id.
func (m Map[V]) Put(id string, v V) {
	if n, ok := decimal(id); ok {
		m.num[n] = v
		return
	}
	m.str[id] = v
}

// Get returns the value of id, and whether it has one.
func (m Map[V]) Get(id string) (V, bool) {
	if n, ok := decimal(id); ok {
		v, ok := m.num[n]
		return v, ok
	}
	v, ok := m.str[id]
	return v, ok
}

// Delete removes id.
func (m Map[V]) Delete(id string) {
	if n, ok := decimal(id); ok {
		delete(m.num, n)
		return
	}
	delete(m.str, id)
}

// Len is the number of ids.
func (m Map[V]) Len() int { return len(m.num) + len(m.str) }

// Clone returns a copy of m.
func (m Map[V]) Clone() Map[V] {
	return Map[V]{num: maps.Clone(m.num), str: maps.Clone(m.str)}
}

// All yields every id and its value, in no particular order. The ids of
// decimal entries are formatted on the way: callers that need only the
// values use Values.
func (m Map[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for n, v := range m.num {
			if !yield(strconv.FormatUint(n, 10), v) {
				return
			}
		}
		for id, v := range m.str {
			if !yield(id, v) {
				return
			}
		}
	}
}

// Values yields every value, in no particular order.
func (m Map[V]) Values() iter.Seq[V] {
	return func(yield func(V) bool) {
		for _, v := range m.num {
			if !yield(v) {
				return
			}
		}
		for _, v := range m.str {
			if !yield(v) {
				return
			}
		}
	}
}

// decimal parses a canonical decimal uint64: digits only, no leading zero,
// no overflow.
func decimal(s string) (uint64, bool) {
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
