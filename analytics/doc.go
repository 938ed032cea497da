// Package analytics is vidlib's playback analytics, without I/O: the event
// schema and its validation, the signed playback-session tokens that bind
// events to a user, a video and a session, the sessioniser that folds a
// session's events into a Session, and the aggregation rules (views, watch
// time, completions per day; resume positions; continue watching).
//
// # Rules
//
// The rules come from systems users know and are settings of Rules, with
// these defaults:
//
//   - Heartbeats every 5 s (PeerTube). A playing segment between two events is
//     counted for at most MaxSegment (default 3 heartbeats): a longer silence
//     is a lost connection or a stalled player, not watching.
//   - Playing time excludes pauses and seeks (Mux): time counts only between
//     playback_started (or a heartbeat) and the next paused or completed
//     event; a seek ends the segment before it and starts a new one at the
//     seek target.
//   - A session is a view once its playing time reaches ViewAfter (10 s) or
//     ViewRatio (50 %) of a video shorter than that; one view per user and
//     video per ViewWindow (1 h), counted greedily by session start time
//     (PeerTube).
//   - Resume: a position under ResumeMinRatio (5 %) or at or over
//     WatchedRatio (90 %) of the video is not resumed; over WatchedRatio the
//     video counts as watched (Jellyfin).
//
// # Order independence
//
// Every result is a function of the SET of events (deduplicated by event
// id), never of the order they arrived in: Fold sorts by occurred-at then
// event id, Views sorts sessions by start then id, Latest picks the newest
// session by last event time then id. A store recomputes a session from all
// its stored events whenever one of them arrives, so late, duplicated and
// reordered events converge to the same sessions, aggregates and resume
// positions. Events that all come after a session's last one (the usual
// case) may instead be folded onto it: FoldState returns the fold's carry
// (FoldCarry: playing or not, the last playback event, the unrounded
// playing time), and Continue folds the new events onto the session and its
// carry with exactly Fold's result, refusing when an event is not after the
// session's last one. An event id reused with another occurred-at (a
// client bug: a retry resends the same event) is two events to
// store/pgstore, whose key is id and time; Fold counts it once. pgstore
// refolds a session in full when one batch holds both copies; a copy that
// arrives in a later batch, after the session's last event, is folded as an
// event of its own until the session is next refolded.
//
// # Errors and concurrency
//
// Validation returns a *Rejection carrying a Reason code (ErrInvalid
// matches it). Everything here is safe for concurrent use; Tokens holds only
// immutable keys.
package analytics
