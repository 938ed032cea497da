package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vidlib/vidlib/analytics"
)

var analyticsErrs = domainErrs{notFound: analytics.ErrInvalid, duplicate: analytics.ErrInvalid, invalid: analytics.ErrInvalid}

type userVideo struct{ user, video string }

// ApplyWatchEvents stores new events (a duplicate id changes nothing) and,
// in the same transaction, recomputes from the stored events every session
// the new events belong to, then the per-day aggregates and the resume
// state of their users and videos. Pairs of (user, video) are locked with
// advisory locks, in order, so that concurrent batches of one pair apply one
// after the other. The result depends only on the set of stored events.
func (s *Store) ApplyWatchEvents(ctx context.Context, evs []analytics.Event, r analytics.Rules) (analytics.Applied, error) {
	var out analytics.Applied
	if len(evs) == 0 {
		return out, nil
	}
	r = r.WithDefaults()
	days := map[time.Time]bool{}
	for i := range evs {
		if err := evs[i].Validate(); err != nil {
			return out, err
		}
		if evs[i].UserID == "" {
			return out, fmt.Errorf("%w: event %s has no user", analytics.ErrInvalid, evs[i].ID)
		}
		days[analytics.Day(evs[i].OccurredAt)] = true
	}
	if err := s.ensurePartitions(ctx, days); err != nil {
		return out, err
	}
	out, err := s.applyWatchEvents(ctx, evs, r)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23514" { // no partition: dropped by another instance meanwhile
		for d := range days {
			s.partitions.Delete(partitionName(d))
		}
		if err := s.ensurePartitions(ctx, days); err != nil {
			return analytics.Applied{}, err
		}
		out, err = s.applyWatchEvents(ctx, evs, r)
	}
	if err != nil {
		return analytics.Applied{}, fmt.Errorf("pgstore: apply watch events: %w", translate(err, analyticsErrs))
	}
	return out, nil
}

// applyWatchEvents is the transaction of ApplyWatchEvents in three
// pipelined round trips (besides BEGIN and COMMIT): store the events, lock
// their (user, video) pairs and read what the fold needs; write the folded
// sessions and read the pairs' sessions; write the pairs' aggregates and
// resume state.
func (s *Store) applyWatchEvents(ctx context.Context, evs []analytics.Event, r analytics.Rules) (analytics.Applied, error) {
	var out analytics.Applied
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = analytics.Applied{}
		// Every pair and session of the batch is locked and read, also those
		// of events that turn out to be duplicates: the statements cannot
		// wait for the insert's answer in one round trip. Only what the new
		// events touch is written.
		allPairs := map[userVideo]bool{}
		allSessions := map[string]bool{}
		for _, e := range evs {
			allPairs[userVideo{e.UserID, e.VideoID}] = true
			allSessions[e.SessionID] = true
		}
		keys := make([]string, 0, len(allPairs))
		vids := make([]string, 0, len(allPairs))
		for p := range allPairs {
			keys = append(keys, p.user+"\x1f"+p.video)
			vids = append(vids, p.video)
		}
		slices.Sort(keys)
		sids := make([]string, 0, len(allSessions))
		for id := range allSessions {
			sids = append(sids, id)
		}
		b := &pgx.Batch{}
		queueInsertWatchEvents(b, evs)
		b.Queue(`SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(x, 7) AS k FROM unnest($1::text[]) x) l ORDER BY k`, keys)
		b.Queue(`SELECT vimeo_video_id, duration_seconds FROM videos WHERE vimeo_video_id = ANY($1::text[])`, vids)
		b.Queue(`SELECT `+sessionCols+`, fold_carry, fold_playing, fold_prev_at, fold_watched, fold_completed_event
			FROM watch_sessions WHERE id = ANY($1::text[])`, sids)
		br := tx.SendBatch(ctx, b)
		inserted, durations, stored, err := readApplyReads(br)
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		out.Inserted = len(inserted)
		if len(inserted) == 0 {
			return nil
		}
		pairs := map[userVideo]bool{}
		fresh := map[string][]analytics.Event{} // session → its new events
		for _, e := range evs {
			if inserted[e.ID] > 0 {
				pairs[userVideo{e.UserID, e.VideoID}] = true
				e.OccurredAt = e.OccurredAt.Truncate(time.Microsecond).UTC() // as stored (pgx truncates)
				fresh[e.SessionID] = append(fresh[e.SessionID], e)
			}
		}
		folded, refold := continueSessions(fresh, stored, inserted, durations, r)
		if len(refold) > 0 {
			more, err := refoldSessions(ctx, tx, refold, durations, r)
			if err != nil {
				return err
			}
			folded = append(folded, more...)
		}
		slices.SortFunc(folded, func(a, b foldedSession) int { return strings.Compare(a.s.ID, b.s.ID) })
		for _, f := range folded {
			out.Sessions = append(out.Sessions, f.s)
		}

		var users, videos []string
		for p := range pairs {
			users, videos = append(users, p.user), append(videos, p.video)
		}
		b = &pgx.Batch{}
		queueUpsertSessions(b, folded)
		b.Queue(`SELECT `+sessionCols+` FROM watch_sessions
			WHERE (user_id, video_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, users, videos)
		br = tx.SendBatch(ctx, b)
		var all []analytics.Session
		if _, err = br.Exec(); err != nil {
			err = fmt.Errorf("upsert sessions: %w", err)
		} else {
			rows, qerr := br.Query()
			if all, err = pgx.CollectRows(rows, scanSession); err == nil && qerr != nil {
				err = qerr
			}
			if err != nil {
				err = fmt.Errorf("read sessions: %w", err)
			}
		}
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		out.Progress, err = recomputePairs(ctx, tx, users, videos, all, r)
		return err
	})
	return out, err
}

// storedSession is a session row with its fold carry (carry false: the
// row predates the carry and must be refolded).
type storedSession struct {
	s     analytics.Session
	c     analytics.FoldCarry
	carry bool
}

// foldedSession is a session to write, with its carry.
type foldedSession struct {
	s analytics.Session
	c analytics.FoldCarry
}

// readApplyReads reads the answers of the first round trip of
// applyWatchEvents, in order: how many times each event id was inserted,
// the videos' durations, the stored sessions.
func readApplyReads(br pgx.BatchResults) (inserted map[string]int, durations map[string]float64, stored map[string]storedSession, err error) {
	rows, _ := br.Query()
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("insert watch events: %w", err)
	}
	inserted = make(map[string]int, len(got))
	for _, id := range got {
		inserted[id]++
	}
	if _, err := br.Exec(); err != nil {
		return nil, nil, nil, fmt.Errorf("lock users and videos: %w", err)
	}
	rows, _ = br.Query()
	durations = map[string]float64{}
	var id string
	var d float64
	if _, err := pgx.ForEachRow(rows, []any{&id, &d}, func() error { durations[id] = d; return nil }); err != nil {
		return nil, nil, nil, fmt.Errorf("read video durations: %w", err)
	}
	rows, _ = br.Query()
	stored = map[string]storedSession{}
	_, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
		var ss storedSession
		var prev *time.Time
		s := &ss.s
		err := row.Scan(&s.ID, &s.UserID, &s.VideoID, &s.Start, &s.End, &s.LastEventID, &s.LastPosition, &s.MaxPosition,
			&s.WatchedSeconds, &s.CompletionRatio, &s.Completed, &s.View, &s.Events,
			&ss.carry, &ss.c.Playing, &prev, &ss.c.Watched, &ss.c.CompletedEvent)
		s.Start, s.End = s.Start.UTC(), s.End.UTC()
		if prev != nil {
			ss.c.PrevAt = prev.UTC()
		}
		stored[s.ID] = ss
		return struct{}{}, err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read sessions: %w", err)
	}
	return inserted, durations, stored, nil
}

// continueSessions folds each session's new events onto its stored row
// when they all come after its last event (analytics.Continue), and returns
// the ids of the sessions that need a fold of every stored event: late or
// reordered events, a row without a carry, an event id stored twice in this
// batch. A session without a row has no stored events but the new ones.
func continueSessions(fresh map[string][]analytics.Event, stored map[string]storedSession, inserted map[string]int,
	durations map[string]float64, r analytics.Rules) ([]foldedSession, []string) {
	var out []foldedSession
	var refold []string
	for id, evs := range fresh {
		twice := false
		for _, e := range evs {
			twice = twice || inserted[e.ID] > 1
		}
		dur := durations[evs[0].VideoID]
		st, ok := stored[id]
		switch {
		case twice:
			refold = append(refold, id)
		case !ok:
			s, c := analytics.FoldState(evs, dur, r)
			out = append(out, foldedSession{s, c})
		case !st.carry:
			refold = append(refold, id)
		default:
			s, c, ok := analytics.Continue(st.s, st.c, evs, dur, r)
			if !ok {
				refold = append(refold, id)
				continue
			}
			out = append(out, foldedSession{s, c})
		}
	}
	return out, refold
}

// refoldSessions folds each of the sessions from all its stored events.
func refoldSessions(ctx context.Context, tx pgx.Tx, ids []string, durations map[string]float64, r analytics.Rules) ([]foldedSession, error) {
	rows, _ := tx.Query(ctx, `SELECT id::text, user_id, video_id, session_id, event_type, position_seconds, occurred_at
		FROM watch_events WHERE session_id = ANY($1::text[])`, ids)
	by := map[string][]analytics.Event{}
	var e analytics.Event
	_, err := pgx.ForEachRow(rows, []any{&e.ID, &e.UserID, &e.VideoID, &e.SessionID, &e.Type, &e.Position, &e.OccurredAt}, func() error {
		e.OccurredAt = e.OccurredAt.UTC()
		by[e.SessionID] = append(by[e.SessionID], e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read session events: %w", err)
	}
	out := make([]foldedSession, 0, len(by))
	for _, evs := range by {
		s, c := analytics.FoldState(evs, durations[evs[0].VideoID], r)
		out = append(out, foldedSession{s, c})
	}
	return out, nil
}

func partitionName(day time.Time) string { return "watch_events_p" + day.Format("20060102") }

// ensurePartitions creates the day partitions of watch_events that days
// need. A partition created by another instance at the same time is fine.
func (s *Store) ensurePartitions(ctx context.Context, days map[time.Time]bool) error {
	for d := range days {
		name := partitionName(d)
		if _, ok := s.partitions.Load(name); ok {
			continue
		}
		_, err := s.pool.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF watch_events FOR VALUES FROM ('%s') TO ('%s')`,
			name, d.Format(time.RFC3339), d.AddDate(0, 0, 1).Format(time.RFC3339)))
		var pgErr *pgconn.PgError
		if err != nil && (!errors.As(err, &pgErr) || pgErr.Code != "42P07") { // 42P07: created meanwhile
			return fmt.Errorf("pgstore: create partition %s: %w", name, err)
		}
		s.partitions.Store(name, struct{}{})
	}
	return nil
}

// DropWatchEventsBefore drops the watch_events day partitions that end at or
// before cutoff (retention) and returns how many days it dropped. Sessions, aggregates and
// resume state are kept.
func (s *Store) DropWatchEventsBefore(ctx context.Context, cutoff time.Time) (int, error) {
	rows, _ := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'watch_events'::regclass`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("pgstore: list watch_events partitions: %w", err)
	}
	n := 0
	for _, name := range names {
		day, err := time.Parse("20060102", strings.TrimPrefix(name, "watch_events_p"))
		if err != nil || day.AddDate(0, 0, 1).After(cutoff) {
			continue
		}
		if _, err := s.pool.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
			return n, fmt.Errorf("pgstore: drop partition %s: %w", name, err)
		}
		s.partitions.Delete(name)
		n++
	}
	return n, nil
}

// queueInsertWatchEvents queues the insert of evs in one statement,
// answering the ids actually inserted.
func queueInsertWatchEvents(b *pgx.Batch, evs []analytics.Event) {
	n := len(evs)
	ids, users, videos, sessions, types, props := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	pos := make([]float64, n)
	occurred, received := make([]time.Time, n), make([]time.Time, n)
	for i, e := range evs {
		ids[i], users[i], videos[i], sessions[i], types[i] = e.ID, e.UserID, e.VideoID, e.SessionID, string(e.Type)
		pos[i], occurred[i], received[i] = e.Position, e.OccurredAt, e.ReceivedAt
		if received[i].IsZero() {
			received[i] = time.Now()
		}
		props[i] = "{}"
		if len(e.Properties) > 0 {
			b, _ := json.Marshal(e.Properties)
			props[i] = string(b)
		}
	}
	b.Queue(`INSERT INTO watch_events (id, user_id, video_id, session_id, event_type, position_seconds, occurred_at, received_at, properties)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::timestamptz[], $8::timestamptz[], $9::jsonb[])
		ON CONFLICT DO NOTHING RETURNING id::text`, ids, users, videos, sessions, types, pos, occurred, received, props)
}

func queueUpsertSessions(b *pgx.Batch, ss []foldedSession) {
	n := len(ss)
	carryPlaying, carryDone := make([]bool, n), make([]bool, n)
	carryPrev := make([]*time.Time, n)
	carryWatched := make([]float64, n)
	ids, users, videos, last := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	start, end := make([]time.Time, n), make([]time.Time, n)
	lastPos, maxPos, watched, ratio := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	done, view := make([]bool, n), make([]bool, n)
	count := make([]int32, n)
	for i, f := range ss {
		s, c := f.s, f.c
		carryPlaying[i], carryDone[i], carryWatched[i] = c.Playing, c.CompletedEvent, c.Watched
		if !c.PrevAt.IsZero() {
			carryPrev[i] = &c.PrevAt
		}
		ids[i], users[i], videos[i], last[i] = s.ID, s.UserID, s.VideoID, s.LastEventID
		start[i], end[i] = s.Start, s.End
		lastPos[i], maxPos[i], watched[i], ratio[i] = s.LastPosition, s.MaxPosition, s.WatchedSeconds, s.CompletionRatio
		done[i], view[i], count[i] = s.Completed, s.View, int32(s.Events)
	}
	b.Queue(`INSERT INTO watch_sessions (id, user_id, video_id, started_at, ended_at, last_event_id, last_position_seconds,
			max_position_seconds, watched_seconds, completion_ratio, completed, qualifies_view, event_count,
			fold_playing, fold_prev_at, fold_watched, fold_completed_event, fold_carry, updated_at)
		SELECT *, true, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::uuid[], $7::float8[],
			$8::float8[], $9::float8[], $10::float8[], $11::bool[], $12::bool[], $13::int[],
			$14::bool[], $15::timestamptz[], $16::float8[], $17::bool[])
		ON CONFLICT (id) DO UPDATE SET started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at,
			last_event_id = EXCLUDED.last_event_id, last_position_seconds = EXCLUDED.last_position_seconds,
			max_position_seconds = EXCLUDED.max_position_seconds, watched_seconds = EXCLUDED.watched_seconds,
			completion_ratio = EXCLUDED.completion_ratio, completed = EXCLUDED.completed,
			qualifies_view = EXCLUDED.qualifies_view, event_count = EXCLUDED.event_count,
			fold_playing = EXCLUDED.fold_playing, fold_prev_at = EXCLUDED.fold_prev_at, fold_watched = EXCLUDED.fold_watched,
			fold_completed_event = EXCLUDED.fold_completed_event, fold_carry = true, updated_at = now()`,
		ids, users, videos, start, end, last, lastPos, maxPos, watched, ratio, done, view, count,
		carryPlaying, carryPrev, carryWatched, carryDone)
}

const sessionCols = `id, user_id, video_id, started_at, ended_at, last_event_id::text, last_position_seconds, max_position_seconds,
	watched_seconds, completion_ratio, completed, qualifies_view, event_count`

func scanSession(row pgx.CollectableRow) (analytics.Session, error) {
	var s analytics.Session
	err := row.Scan(&s.ID, &s.UserID, &s.VideoID, &s.Start, &s.End, &s.LastEventID, &s.LastPosition, &s.MaxPosition,
		&s.WatchedSeconds, &s.CompletionRatio, &s.Completed, &s.View, &s.Events)
	s.Start, s.End = s.Start.UTC(), s.End.UTC()
	return s, err
}

// recomputePairs rewrites watch_daily and watch_progress of each (user,
// video) of users and videos from all, the pairs' sessions, in one round
// trip.
func recomputePairs(ctx context.Context, tx pgx.Tx, users, videos []string, all []analytics.Session, r analytics.Rules) ([]analytics.Progress, error) {
	by := map[userVideo][]analytics.Session{}
	for _, s := range all {
		k := userVideo{s.UserID, s.VideoID}
		by[k] = append(by[k], s)
	}
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM watch_daily WHERE (user_id, video_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, users, videos)
	var du, dv []string
	var dd []time.Time
	var dviews, dsess, dcomp []int32
	var dwatch []float64
	var pu, pv, plast []string
	var ppos, pratio []float64
	var pdone []bool
	var pat []time.Time
	var progress []analytics.Progress
	for k, ss := range by {
		for _, d := range analytics.Daily(ss, r) {
			du, dv, dd = append(du, k.user), append(dv, k.video), append(dd, d.Day)
			dviews, dsess, dcomp, dwatch = append(dviews, int32(d.Views)), append(dsess, int32(d.Sessions)), append(dcomp, int32(d.Completions)), append(dwatch, d.WatchedSeconds)
		}
		p := analytics.Latest(ss)
		progress = append(progress, p)
		pu, pv, plast = append(pu, p.UserID), append(pv, p.VideoID), append(plast, p.LastEventID)
		ppos, pratio, pdone, pat = append(ppos, p.Position), append(pratio, p.Ratio), append(pdone, p.Completed), append(pat, p.LastEventAt)
	}
	b.Queue(`INSERT INTO watch_daily (user_id, video_id, day, views, sessions, completions, watched_seconds)
		SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::int[], $5::int[], $6::int[], $7::float8[])`,
		du, dv, dd, dviews, dsess, dcomp, dwatch)
	b.Queue(`INSERT INTO watch_progress (user_id, video_id, position_seconds, completion_ratio, completed, last_event_at, last_event_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::bool[], $6::timestamptz[], $7::uuid[])
		ON CONFLICT (user_id, video_id) DO UPDATE SET position_seconds = EXCLUDED.position_seconds,
			completion_ratio = EXCLUDED.completion_ratio, completed = EXCLUDED.completed,
			last_event_at = EXCLUDED.last_event_at, last_event_id = EXCLUDED.last_event_id, updated_at = now()`,
		pu, pv, ppos, pratio, pdone, pat, plast)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("write daily and progress: %w", err)
	}
	slices.SortFunc(progress, func(a, b analytics.Progress) int {
		return strings.Compare(a.UserID+"\x00"+a.VideoID, b.UserID+"\x00"+b.VideoID)
	})
	return progress, nil
}

// WatchSession returns a stored session (analytics.ErrInvalid wrapped in a
// not-found error when there is none).
func (s *Store) WatchSession(ctx context.Context, id string) (analytics.Session, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+sessionCols+` FROM watch_sessions WHERE id = $1`, id)
	ss, err := pgx.CollectRows(rows, scanSession)
	if err != nil {
		return analytics.Session{}, fmt.Errorf("pgstore: watch session: %w", err)
	}
	if len(ss) == 0 {
		return analytics.Session{}, fmt.Errorf("pgstore: watch session %q: %w", id, analytics.ErrNotFound)
	}
	return ss[0], nil
}

// WatchDaily returns the per-day aggregates of one user and video, in day
// order.
func (s *Store) WatchDaily(ctx context.Context, userID, videoID string) ([]analytics.DayStat, error) {
	rows, _ := s.pool.Query(ctx, `SELECT day, views, sessions, watched_seconds, completions FROM watch_daily
		WHERE user_id = $1 AND video_id = $2 ORDER BY day`, userID, videoID)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.DayStat, error) {
		var d analytics.DayStat
		err := row.Scan(&d.Day, &d.Views, &d.Sessions, &d.WatchedSeconds, &d.Completions)
		d.Day = time.Date(d.Day.Year(), d.Day.Month(), d.Day.Day(), 0, 0, 0, 0, time.UTC)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: watch daily: %w", err)
	}
	return out, nil
}

const progressCols = `user_id, video_id, position_seconds, completion_ratio, completed, last_event_at, last_event_id::text, dismissed_at`

func scanProgress(row pgx.CollectableRow) (analytics.Progress, error) {
	var p analytics.Progress
	var dismissed *time.Time
	err := row.Scan(&p.UserID, &p.VideoID, &p.Position, &p.Ratio, &p.Completed, &p.LastEventAt, &p.LastEventID, &dismissed)
	p.LastEventAt = p.LastEventAt.UTC()
	if dismissed != nil {
		p.DismissedAt = dismissed.UTC()
	}
	return p, err
}

// Progress returns the user's resume state on the videos that have one.
func (s *Store) Progress(ctx context.Context, userID string, videoIDs ...string) (map[string]analytics.Progress, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+progressCols+` FROM watch_progress WHERE user_id = $1 AND video_id = ANY($2::text[])`, userID, videoIDs)
	ps, err := pgx.CollectRows(rows, scanProgress)
	if err != nil {
		return nil, fmt.Errorf("pgstore: progress: %w", err)
	}
	out := make(map[string]analytics.Progress, len(ps))
	for _, p := range ps {
		out[p.VideoID] = p
	}
	return out, nil
}

// ContinueWatching returns up to limit of the user's unfinished videos not
// dismissed since their last event, newest last event first. The resume
// rules that need the duration (analytics.Progress.InProgress) are the
// caller's, at serve time.
func (s *Store) ContinueWatching(ctx context.Context, userID string, limit int) ([]analytics.Progress, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+progressCols+` FROM watch_progress
		WHERE user_id = $1 AND NOT completed AND position_seconds > 0 AND (dismissed_at IS NULL OR dismissed_at < last_event_at)
		ORDER BY last_event_at DESC, video_id DESC LIMIT $2`, userID, limit)
	out, err := pgx.CollectRows(rows, scanProgress)
	if err != nil {
		return nil, fmt.Errorf("pgstore: continue watching: %w", err)
	}
	return out, nil
}

// Unfinished returns up to limit of the user's unfinished videos (not
// completed, position > 0), dismissed or not (DismissedAt says), newest
// last event first: what both continue watching and the resume position
// are made of, so one read can serve both.
func (s *Store) Unfinished(ctx context.Context, userID string, limit int) ([]analytics.Progress, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+progressCols+` FROM watch_progress
		WHERE user_id = $1 AND NOT completed AND position_seconds > 0
		ORDER BY last_event_at DESC, video_id DESC LIMIT $2`, userID, limit)
	out, err := pgx.CollectRows(rows, scanProgress)
	if err != nil {
		return nil, fmt.Errorf("pgstore: unfinished: %w", err)
	}
	return out, nil
}

// DismissContinueWatching hides the video from the user's continue watching
// until an event newer than at. A video without progress is ErrNotFound.
func (s *Store) DismissContinueWatching(ctx context.Context, userID, videoID string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE watch_progress SET dismissed_at = greatest($3, last_event_at), updated_at = now()
		WHERE user_id = $1 AND video_id = $2`, userID, videoID, at)
	if err != nil {
		return fmt.Errorf("pgstore: dismiss: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: dismiss %q: %w", videoID, analytics.ErrNotFound)
	}
	return nil
}

// History returns the user's watched videos, newest last event first,
// after the cursor (before, beforeVideo) when before is set.
func (s *Store) History(ctx context.Context, userID string, before time.Time, beforeVideo string, limit int) ([]analytics.Progress, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+progressCols+` FROM watch_progress
		WHERE user_id = $1 AND ($2::timestamptz IS NULL OR (last_event_at, video_id) < ($2, $3))
		ORDER BY last_event_at DESC, video_id DESC LIMIT $4`, userID, nullTime(before), beforeVideo, limit)
	out, err := pgx.CollectRows(rows, scanProgress)
	if err != nil {
		return nil, fmt.Errorf("pgstore: history: %w", err)
	}
	return out, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
