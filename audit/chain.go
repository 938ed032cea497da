package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// canonicalPrefix starts the canonical encoding; a new encoding gets a new
// prefix, never a change to this one.
const canonicalPrefix = "vidlib.audit.v1\x00"

// Canonical returns the bytes of r that its hash covers, always the same for
// the same record: the fields in a fixed order (id, time, actor kind, actor
// id, action, object kind, object id, outcome, request id, trace id, details),
// each string as its length (uvarint) and bytes, the time as microseconds
// since the Unix epoch in UTC (8 bytes, big-endian; what PostgreSQL keeps),
// and details as their count followed by the key/value pairs in byte order of
// the keys. Seq, PrevHash and Hash are not part of it: a record's position is
// bound by the link to its predecessor.
func Canonical(r Record) []byte {
	n := len(canonicalPrefix) + 8 + 12*binary.MaxVarintLen64 + len(r.ID) + len(r.ActorKind) + len(r.ActorID) +
		len(r.Action) + len(r.ObjectKind) + len(r.ObjectID) + len(r.Outcome) + len(r.RequestID) + len(r.TraceID)
	keys := make([]string, 0, len(r.Details))
	for k, v := range r.Details {
		keys = append(keys, k)
		n += len(k) + len(v) + 2*binary.MaxVarintLen64
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	b = append(b, canonicalPrefix...)
	b = appendString(b, r.ID)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UTC().UnixMicro()))
	for _, s := range []string{string(r.ActorKind), r.ActorID, string(r.Action), r.ObjectKind, r.ObjectID,
		string(r.Outcome), r.RequestID, r.TraceID} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, r.Details[k])
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// HashSize is the length of a record hash (SHA-256).
const HashSize = sha256.Size

// ComputeHash returns SHA-256(prevHash || Canonical(r)); prevHash is empty for
// the first record of the chain.
func ComputeHash(prevHash []byte, r Record) []byte {
	h := sha256.New()
	h.Write(prevHash)
	h.Write(Canonical(r))
	return h.Sum(nil)
}

// Link places r after the record (prevSeq, prevHash) (0 and nil for the
// first): it sets Seq, PrevHash and Hash, and normalises the time.
func Link(prevSeq int64, prevHash []byte, r Record) Record {
	r = r.Normalize()
	r.Seq = prevSeq + 1
	r.PrevHash = bytes.Clone(prevHash)
	r.Hash = ComputeHash(prevHash, r)
	return r
}

// Chain appends records in memory, one after the other: the writer's view of
// the head. It is not safe for concurrent use.
type Chain struct {
	Seq  int64  // of the head; 0 when empty
	Hash []byte // of the head; nil when empty
}

// Append links r after the head and makes it the new head.
func (c *Chain) Append(r Record) Record {
	r = Link(c.Seq, c.Hash, r)
	c.Seq, c.Hash = r.Seq, r.Hash
	return r
}
