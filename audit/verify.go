package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
)

// Checkpoint is a statement that the chain had head Hash at Seq at Time,
// written by the consumer from time to time. Signed with an Ed25519 key, it
// also proves that a later verifier sees the log that existed then: records
// removed from the tail (truncation) are detected against it.
type Checkpoint struct {
	Seq       int64
	Hash      []byte
	Time      time.Time
	KeyID     string // names the signing key ("" when unsigned)
	Signature []byte // Ed25519 over SignedBytes; nil when unsigned
}

const checkpointPrefix = "vidlib.audit.checkpoint.v1\x00"

// SignedBytes are the bytes a checkpoint signature covers: a prefix, Seq (8
// bytes, big-endian), the hash and the time in microseconds (8 bytes).
func (c Checkpoint) SignedBytes() []byte {
	b := make([]byte, 0, len(checkpointPrefix)+16+len(c.Hash))
	b = append(b, checkpointPrefix...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Seq))
	b = append(b, c.Hash...)
	return binary.BigEndian.AppendUint64(b, uint64(c.Time.UTC().UnixMicro()))
}

// Sign sets KeyID and Signature.
func (c Checkpoint) Sign(keyID string, key ed25519.PrivateKey) Checkpoint {
	c.Time = c.Time.UTC().Truncate(time.Microsecond)
	c.KeyID = keyID
	c.Signature = ed25519.Sign(key, c.SignedBytes())
	return c
}

// VerifySignature reports whether c carries a valid signature by pub.
func (c Checkpoint) VerifySignature(pub ed25519.PublicKey) bool {
	return len(c.Signature) == ed25519.SignatureSize && len(pub) == ed25519.PublicKeySize &&
		ed25519.Verify(pub, c.SignedBytes(), c.Signature)
}

// BreakKind says how the chain is broken at a record.
type BreakKind string

// Break kinds, in the words of the report.
const (
	// BreakModified: a record's content (or its stored prev_hash) no longer
	// matches its hash, or it was rewritten with a new hash its successor
	// does not link to.
	BreakModified BreakKind = "modified"
	// BreakDeleted: records are missing (a gap in Seq); Seq names the first
	// missing one.
	BreakDeleted BreakKind = "deleted"
	// BreakReordered: a record is intact but stands in the wrong place: its
	// predecessor comes later.
	BreakReordered BreakKind = "reordered"
	// BreakInserted: a record that is not part of the chain: its successor
	// links to its predecessor, it repeats a Seq, or it lies beyond the
	// writer's head.
	BreakInserted BreakKind = "inserted"
	// BreakTruncated: the chain ends before a checkpoint or the writer's head
	// says it should; Seq names the first missing record.
	BreakTruncated BreakKind = "truncated"
	// BreakCheckpoint: a checkpoint does not match the record at its Seq, or
	// its signature does not verify.
	BreakCheckpoint BreakKind = "checkpoint"
)

// Break is the first broken link of a chain.
type Break struct {
	Seq    int64
	Kind   BreakKind
	Detail string
}

func (b *Break) String() string { return fmt.Sprintf("seq %d: %s: %s", b.Seq, b.Kind, b.Detail) }

// Report is the result of a verification.
type Report struct {
	Records     int64  // records read
	HeadSeq     int64  // the last record read (0: none)
	HeadHash    []byte // its hash
	Checkpoints int    // checkpoints checked
	// Checkpoint is the latest checkpoint, nil if there is none.
	Checkpoint *Checkpoint
	// Truncated: the chain ends before the latest checkpoint or the writer's
	// recorded head.
	Truncated bool
	// Break is the first problem found, nil when the chain is intact.
	Break *Break
}

// OK reports whether the chain verified clean.
func (r Report) OK() bool { return r.Break == nil }

// Verifier checks records fed in Seq order, one at a time, without keeping
// them: Add each record, then Finish. It is not safe for concurrent use; use
// Verify to read a whole chain from a ChainReader.
type Verifier struct {
	pub   ed25519.PublicKey
	cps   []Checkpoint
	cpi   int
	rep   Report
	next  int64 // expected Seq
	prev  []byte
	pprev []byte // the previous record's PrevHash

	// After an intact record that does not link, the verifier looks ahead
	// for its predecessor to tell a reorder from an insertion.
	pending   *Break
	want      []byte
	lookahead int
}

// lookaheadLimit bounds the search for a displaced predecessor.
const lookaheadLimit = 1 << 20

// NewVerifier returns a verifier for a chain starting at Seq 1, with the
// chain's checkpoints in Seq order (nil: none). With pub set, every
// checkpoint must carry a valid signature by it.
func NewVerifier(checkpoints []Checkpoint, pub ed25519.PublicKey) *Verifier {
	v := &Verifier{pub: pub, cps: checkpoints, next: 1}
	if n := len(checkpoints); n > 0 {
		cp := checkpoints[n-1]
		v.rep.Checkpoint = &cp
	}
	return v
}

func (v *Verifier) fail(b *Break) {
	if v.rep.Break == nil {
		v.rep.Break = b
	}
}

// Add checks the next record.
func (v *Verifier) Add(r Record) {
	v.rep.Records++
	v.rep.HeadSeq, v.rep.HeadHash = r.Seq, r.Hash
	if v.pending != nil {
		if bytes.Equal(r.Hash, v.want) {
			v.pending.Seq++
			v.pending.Kind = BreakReordered
			v.pending.Detail = fmt.Sprintf("record %d is out of place: its predecessor stands later, at seq %d", v.pending.Seq, r.Seq)
			v.fail(v.pending)
			v.pending = nil
		} else if v.lookahead++; v.lookahead > lookaheadLimit {
			v.fail(v.pending)
			v.pending = nil
		}
	}
	if v.rep.Break != nil || v.pending != nil {
		return
	}
	switch {
	case r.Seq > v.next:
		v.fail(&Break{Seq: v.next, Kind: BreakDeleted, Detail: fmt.Sprintf("records %d to %d are missing", v.next, r.Seq-1)})
		return
	case r.Seq < v.next:
		v.fail(&Break{Seq: r.Seq, Kind: BreakInserted, Detail: fmt.Sprintf("seq %d appears again (record %s)", r.Seq, r.ID)})
		return
	}
	if !bytes.Equal(ComputeHash(r.PrevHash, r), r.Hash) {
		v.fail(&Break{Seq: r.Seq, Kind: BreakModified, Detail: fmt.Sprintf("record %s does not match its hash", r.ID)})
		return
	}
	if !bytes.Equal(r.PrevHash, v.prev) {
		if r.Seq > 1 && bytes.Equal(r.PrevHash, v.pprev) {
			v.fail(&Break{Seq: r.Seq - 1, Kind: BreakInserted,
				Detail: fmt.Sprintf("record %d is not in the chain: record %d links to its predecessor", r.Seq-1, r.Seq)})
			return
		}
		// Unless its predecessor turns up later (a reorder), the record
		// before it was rewritten and rehashed: it no longer has the hash
		// its successor was linked to.
		v.pending = &Break{Seq: r.Seq - 1, Kind: BreakModified,
			Detail: fmt.Sprintf("record %d was rewritten (record %d links to another hash), or record %d was forged", r.Seq-1, r.Seq, r.Seq)}
		v.want = r.PrevHash
		return
	}
	for v.cpi < len(v.cps) && v.cps[v.cpi].Seq <= r.Seq {
		cp := v.cps[v.cpi]
		v.cpi++
		v.rep.Checkpoints++
		if b := v.checkCheckpoint(cp, r); b != nil {
			v.fail(b)
			return
		}
	}
	v.pprev, v.prev = r.PrevHash, r.Hash
	v.next = r.Seq + 1
}

func (v *Verifier) checkCheckpoint(cp Checkpoint, r Record) *Break {
	if cp.Seq != r.Seq || !bytes.Equal(cp.Hash, r.Hash) {
		return &Break{Seq: cp.Seq, Kind: BreakCheckpoint,
			Detail: fmt.Sprintf("checkpoint of %s says hash %s, the chain has %s", cp.Time.Format(time.RFC3339), short(cp.Hash), short(r.Hash))}
	}
	if v.pub != nil && !cp.VerifySignature(v.pub) {
		return &Break{Seq: cp.Seq, Kind: BreakCheckpoint, Detail: fmt.Sprintf("checkpoint of %s: signature does not verify", cp.Time.Format(time.RFC3339))}
	}
	return nil
}

// Finish ends the walk; head is the writer's recorded head (Seq 0: unknown),
// checked like an unsigned checkpoint for truncation.
func (v *Verifier) Finish(head Checkpoint) Report {
	if v.pending != nil {
		v.fail(v.pending)
		v.pending = nil
	}
	end := v.next - 1 // the last record verified in sequence
	if v.rep.Break == nil {
		last := head.Seq
		what := "the writer's head"
		if cp := v.rep.Checkpoint; cp != nil && cp.Seq > last {
			last, what = cp.Seq, "checkpoint of "+cp.Time.Format(time.RFC3339)
		}
		if last > end {
			v.rep.Truncated = true
			v.fail(&Break{Seq: end + 1, Kind: BreakTruncated,
				Detail: fmt.Sprintf("the chain ends at %d, %s is at %d", end, what, last)})
		} else if head.Seq > 0 && head.Seq == end && !bytes.Equal(head.Hash, v.prev) {
			v.fail(&Break{Seq: head.Seq, Kind: BreakModified, Detail: "the last record does not match the writer's head"})
		}
	}
	return v.rep
}

// ChainReader reads a stored chain: store/pgstore and store/memstore.
type ChainReader interface {
	// ScanAuditChain calls fn with every record from Seq fromSeq on, in Seq
	// order, with Seq, PrevHash and Hash as stored.
	ScanAuditChain(ctx context.Context, fromSeq int64, fn func(Record) error) error
	// AuditCheckpoints returns the checkpoints in Seq order.
	AuditCheckpoints(ctx context.Context) ([]Checkpoint, error)
	// AuditHead returns the writer's recorded head (Seq 0 when nothing was
	// appended yet).
	AuditHead(ctx context.Context) (Checkpoint, error)
}

// VerifyOptions tune Verify. The zero value is valid.
type VerifyOptions struct {
	// PublicKey, if set, must have signed every checkpoint.
	PublicKey ed25519.PublicKey
}

// Verify reads the whole chain from src and reports the first broken link and
// whether the tail was truncated since the last checkpoint. The error is only
// for failures to read.
func Verify(ctx context.Context, src ChainReader, opts *VerifyOptions) (Report, error) {
	if opts == nil {
		opts = &VerifyOptions{}
	}
	cps, err := src.AuditCheckpoints(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: checkpoints: %w", err)
	}
	head, err := src.AuditHead(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: head: %w", err)
	}
	v := NewVerifier(cps, opts.PublicKey)
	if err := src.ScanAuditChain(ctx, 1, func(r Record) error { v.Add(r); return nil }); err != nil {
		return Report{}, fmt.Errorf("audit: verify: read chain: %w", err)
	}
	rep := v.Finish(head)
	// Records beyond the writer's head were not appended by a writer (it
	// moves the head in the transaction that appends). The head is read
	// again now, after the scan, so that honest appends made meanwhile are
	// inside it.
	if rep.Break == nil && rep.HeadSeq > 0 {
		after, err := src.AuditHead(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("audit: verify: head: %w", err)
		}
		if rep.HeadSeq > after.Seq {
			rep.Break = &Break{Seq: after.Seq + 1, Kind: BreakInserted,
				Detail: fmt.Sprintf("records %d to %d lie beyond the writer's head (%d): no writer appended them", after.Seq+1, rep.HeadSeq, after.Seq)}
		}
	}
	return rep, nil
}

func short(h []byte) string {
	if len(h) > 8 {
		h = h[:8]
	}
	return hex.EncodeToString(h)
}

// WriteReport prints a verification report for people: one line per fact,
// the first broken link last.
func WriteReport(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "records:     %d\n", r.Records)
	if r.Records > 0 {
		fmt.Fprintf(&b, "head:        seq %d, hash %s\n", r.HeadSeq, hex.EncodeToString(r.HeadHash))
	}
	fmt.Fprintf(&b, "checkpoints: %d checked", r.Checkpoints)
	if cp := r.Checkpoint; cp != nil {
		fmt.Fprintf(&b, "; latest at seq %d (%s, signed: %t)", cp.Seq, cp.Time.Format(time.RFC3339), cp.Signature != nil)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "truncated:   %t\n", r.Truncated)
	if r.Break == nil {
		b.WriteString("result:      OK, the chain is intact\n")
	} else {
		fmt.Fprintf(&b, "result:      BROKEN at seq %d (%s): %s\n", r.Break.Seq, r.Break.Kind, r.Break.Detail)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
