package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/store/memstore"
)

func rec(i int) audit.Record {
	return audit.Record{
		ID: uuid.Must(uuid.NewV7()).String(), Time: time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC).Add(time.Duration(i) * time.Minute),
		ActorKind: audit.ActorAdmin, ActorID: "admin-1", Action: audit.ActionVideoHide, ObjectKind: "video", ObjectID: "42",
		Outcome: audit.OutcomeOK, RequestID: "r", Details: map[string]string{"b": "2", "a": "1"},
	}
}

func TestActionsAreValidAndClosed(t *testing.T) {
	seen := map[audit.Action]bool{}
	for _, a := range audit.Actions {
		require.True(t, a.Valid(), a)
		require.False(t, seen[a], "listed twice: %s", a)
		seen[a] = true
	}
	for _, a := range []audit.Action{"", "auth.logout", "AUTH.LOGIN", "auth.login "} {
		require.False(t, a.Valid(), a)
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	require.NoError(t, rec(0).Validate())
	bad := audit.Record{ID: "nope", ActorKind: "robot", Action: "x", ObjectKind: "a:b", ObjectID: "\x00", Outcome: "maybe",
		Details: map[string]string{"": "v", "k": "nul\x00"}}
	err := bad.Validate()
	require.ErrorIs(t, err, audit.ErrInvalid)
	var ve *audit.ValidationError
	require.ErrorAs(t, err, &ve)
	msg := err.Error()
	for _, f := range []string{"id:", "time:", "actor_kind:", "actor_id:", "action:", "object_kind:", "object_id:", "outcome:", "details:"} {
		require.Contains(t, msg, f)
	}
	r := rec(0)
	r.Details = map[string]string{}
	for i := range audit.MaxDetails + 1 {
		r.Details[strings.Repeat("k", i+1)] = "v"
	}
	require.ErrorIs(t, r.Validate(), audit.ErrInvalid)
}

// TestCanonicalIsDeterministicAndCoversEveryField: the same record (details
// in any order, the time in any zone or below the microsecond) encodes to the
// same bytes; a change of any field changes them.
func TestCanonicalIsDeterministicAndCoversEveryField(t *testing.T) {
	r := rec(0)
	same := r
	same.Time = r.Time.In(time.FixedZone("x", 3600)).Add(100 * time.Nanosecond)
	same.Details = map[string]string{"a": "1", "b": "2"}
	same.Seq, same.Hash = 99, []byte{1}
	require.Equal(t, audit.Canonical(r), audit.Canonical(same))

	mutations := map[string]func(*audit.Record){
		"id":          func(r *audit.Record) { r.ID = uuid.Must(uuid.NewV7()).String() },
		"time":        func(r *audit.Record) { r.Time = r.Time.Add(time.Microsecond) },
		"actor_kind":  func(r *audit.Record) { r.ActorKind = audit.ActorUser },
		"actor_id":    func(r *audit.Record) { r.ActorID = "admin-2" },
		"action":      func(r *audit.Record) { r.Action = audit.ActionVideoShow },
		"object_kind": func(r *audit.Record) { r.ObjectKind = "folder" },
		"object_id":   func(r *audit.Record) { r.ObjectID = "43" },
		"outcome":     func(r *audit.Record) { r.Outcome = audit.OutcomeError },
		"request_id":  func(r *audit.Record) { r.RequestID = "s" },
		"trace_id":    func(r *audit.Record) { r.TraceID = "t" },
		"detail":      func(r *audit.Record) { r.Details["a"] = "3" },
		"detail key":  func(r *audit.Record) { r.Details = map[string]string{"a": "1", "c": "2"} },
		// Length prefixes: moving bytes between fields changes the encoding.
		"boundary": func(r *audit.Record) { r.ActorID, r.RequestID = "admin-1r", "" },
	}
	for name, m := range mutations {
		c := r
		c.Details = map[string]string{"a": "1", "b": "2"}
		m(&c)
		require.NotEqual(t, audit.Canonical(r), audit.Canonical(c), name)
	}
}

func TestHashChainLinks(t *testing.T) {
	var c audit.Chain
	a := c.Append(rec(0))
	b := c.Append(rec(1))
	require.Equal(t, int64(1), a.Seq)
	require.Nil(t, a.PrevHash)
	require.Len(t, a.Hash, audit.HashSize)
	require.Equal(t, a.Hash, b.PrevHash)
	require.Equal(t, audit.ComputeHash(a.Hash, b), b.Hash)
	require.Equal(t, b.Hash, c.Hash)
	// The hash is SHA-256(prev || canonical): a known answer guards the format.
	fixed := rec(0)
	fixed.ID = "01890a5d-ac96-774b-bcce-b302099a8057"
	h := audit.ComputeHash(nil, fixed)
	require.Equal(t, "7669646c69622e61756469742e763100"+ // "vidlib.audit.v1\0"
		"24"+hex.EncodeToString([]byte(fixed.ID))+
		"00064c2bc7194722"+ // 2026-03-04T05:06:07.891234Z in µs
		"05"+hex.EncodeToString([]byte("admin"))+"07"+hex.EncodeToString([]byte("admin-1"))+
		"10"+hex.EncodeToString([]byte("admin.video_hide"))+"05"+hex.EncodeToString([]byte("video"))+
		"02"+hex.EncodeToString([]byte("42"))+"02"+hex.EncodeToString([]byte("ok"))+"01"+hex.EncodeToString([]byte("r"))+"00"+
		"02"+"0161"+"0131"+"0162"+"0132", hex.EncodeToString(audit.Canonical(fixed)))
	require.Equal(t, "ad8da3b16220ed9a3d560902020db58221ee2e0b8fff0c6b2e970f5f477ffe24", hex.EncodeToString(h))
}

func TestDerivedIDIsStableUUIDv7(t *testing.T) {
	tm := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b := audit.DerivedID("login:abc", tm), audit.DerivedID("login:abc", tm)
	require.Equal(t, a, b)
	require.NotEqual(t, a, audit.DerivedID("login:abd", tm))
	u, err := uuid.Parse(a)
	require.NoError(t, err)
	require.Equal(t, uuid.Version(7), u.Version())
	require.Equal(t, uuid.RFC4122, u.Variant())
	sec, nsec := u.Time().UnixTime()
	require.Equal(t, tm.UnixMilli(), sec*1000+nsec/1e6)
}

// chainOf appends n records and returns them linked.
func chainOf(n int) []audit.Record {
	var c audit.Chain
	out := make([]audit.Record, n)
	for i := range out {
		out[i] = c.Append(rec(i))
	}
	return out
}

func verify(recs []audit.Record, cps []audit.Checkpoint, head audit.Checkpoint) audit.Report {
	v := audit.NewVerifier(cps, nil)
	for _, r := range recs {
		v.Add(r)
	}
	return v.Finish(head)
}

// TestVerifierFindsTheFirstBrokenLink: the in-memory counterpart of
// pgstore's tamper test, over every position.
func TestVerifierFindsTheFirstBrokenLink(t *testing.T) {
	const n = 12
	clean := chainOf(n)
	head := audit.Checkpoint{Seq: n, Hash: clean[n-1].Hash}
	rep := verify(clean, nil, head)
	require.True(t, rep.OK(), "%v", rep.Break)
	require.Equal(t, int64(n), rep.Records)

	for i := range n {
		seq := int64(i + 1)
		clone := func() []audit.Record { return append([]audit.Record(nil), clean...) }

		edited := clone()
		edited[i].ObjectID = "forged"
		b := verify(edited, nil, head).Break
		require.Equal(t, &audit.Break{Seq: seq, Kind: audit.BreakModified, Detail: b.Detail}, b)

		deleted := append(clone()[:i], clean[i+1:]...)
		b = verify(deleted, nil, head).Break
		require.NotNil(t, b)
		if i == n-1 {
			require.Equal(t, audit.BreakTruncated, b.Kind)
		} else {
			require.Equal(t, audit.BreakDeleted, b.Kind)
		}
		require.Equal(t, seq, b.Seq)

		if i < n-1 { // swap i and i+1, with their seq
			sw := clone()
			sw[i], sw[i+1] = sw[i+1], sw[i]
			sw[i].Seq, sw[i+1].Seq = seq, seq+1
			b = verify(sw, nil, head).Break
			require.Equal(t, audit.BreakReordered, b.Kind, b.String())
			require.Equal(t, seq, b.Seq)
		}
	}
	rep = verify(clean[:7], []audit.Checkpoint{{Seq: 10, Hash: clean[9].Hash}}, audit.Checkpoint{})
	require.True(t, rep.Truncated)
	require.Equal(t, int64(8), rep.Break.Seq)
	rep = verify(clean, []audit.Checkpoint{{Seq: 5, Hash: clean[4].PrevHash}}, head)
	require.Equal(t, audit.BreakCheckpoint, rep.Break.Kind)
}

func TestCheckpointSignature(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	cp := audit.Checkpoint{Seq: 3, Hash: bytes.Repeat([]byte{7}, 32), Time: time.Now()}.Sign("k", key)
	require.True(t, cp.VerifySignature(pub))
	forged := cp
	forged.Seq = 4
	require.False(t, forged.VerifySignature(pub))
	require.False(t, audit.Checkpoint{Seq: 3, Hash: cp.Hash, Time: cp.Time}.VerifySignature(pub))
}

type failingOutbox struct{}

func (failingOutbox) EnqueueOutbox(context.Context, string, string, []byte) error {
	return errors.New("tx aborted")
}

type publisher struct{ msgs []events.Message }

func (p *publisher) Publish(_ context.Context, msgs ...events.Message) error {
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func TestRecorderOutboxAndPublisher(t *testing.T) {
	ctx := context.Background()
	_, err := audit.NewRecorder(nil)
	require.ErrorIs(t, err, audit.ErrInvalid)

	s := memstore.New()
	now := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
	r, err := audit.NewRecorder(&audit.RecorderOptions{Source: "vidlib/test", Outbox: s, Now: func() time.Time { return now }})
	require.NoError(t, err)
	in := audit.Record{ActorKind: audit.ActorAdmin, ActorID: "a", Action: audit.ActionCacheInvalidate, ObjectKind: "folder",
		ObjectID: "1", Outcome: audit.OutcomeOK}
	require.NoError(t, r.Record(ctx, in))
	bad := in
	bad.Action = "nope"
	require.ErrorIs(t, r.Record(ctx, bad), audit.ErrInvalid)
	_, err = r.RecordTx(ctx, failingOutbox{}, in)
	require.ErrorContains(t, err, "tx aborted")

	var got []audit.Record
	_, err = s.RelayOutbox(ctx, 10, func(_ context.Context, batch []events.OutboxRecord) []error {
		for _, o := range batch {
			require.Equal(t, events.TopicAudit, o.Topic)
			require.Equal(t, "folder:1", o.Key)
			e, err := events.Decode(o.Payload)
			require.NoError(t, err)
			require.Equal(t, audit.EventType, e.Type)
			require.Equal(t, "vidlib/test", e.Source)
			rec, err := audit.FromEvent(e)
			require.NoError(t, err)
			require.Equal(t, e.ID, rec.ID, "the envelope id is the record id")
			got = append(got, rec)
		}
		return nil
	})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, now.Truncate(time.Microsecond), got[0].Time)
	in.ID, in.Time = got[0].ID, got[0].Time
	require.Equal(t, in, got[0])

	p := &publisher{}
	r2, err := audit.NewRecorder(&audit.RecorderOptions{Publisher: p})
	require.NoError(t, err)
	require.NoError(t, r2.Record(ctx, in))
	require.Len(t, p.msgs, 1)
	require.Equal(t, events.TopicAudit, p.msgs[0].Topic)
	e, err := p.msgs[0].Event()
	require.NoError(t, err)
	again, err := audit.FromEvent(e)
	require.NoError(t, err)
	require.Equal(t, in, again, "a record with an id keeps it")
}

func TestDetailValueIsAlwaysValid(t *testing.T) {
	for _, s := range []string{"plain", "nul\x00byte", "bad\xffutf8", strings.Repeat("é", audit.MaxDetailValue)} {
		v := audit.DetailValue(s)
		r := rec(0)
		r.Details = map[string]string{"k": v}
		require.NoError(t, r.Validate(), "%q", s)
		require.LessOrEqual(t, len(v), audit.MaxDetailValue)
	}
	require.Equal(t, "plain", audit.DetailValue("plain"))
	require.Equal(t, "nulbyte", audit.DetailValue("nul\x00byte"))
}
