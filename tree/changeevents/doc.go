// Package changeevents turns the mirror's changes into events: for every
// change a tree.Mirror applies, one event on vimeo.sync.normalized (type
// "vimeo." + the change kind, e.g. "vimeo.folder.moved", keyed by the object's
// Vimeo id, source "vidlib/sync"), and for moves, deletions and
// unavailability also an audit.Record on audit.events. A reconciliation that
// holds deletions for an admin writes one audit record saying so (RecordHeld),
// and so does a run that fails (RecordFailed).
//
// The events are written through the transactional outbox (events.Enqueue on
// the tree.Tx), so they commit with the change or not at all. Housekeeping
// kinds (folder.updated: only position or timestamps; video.reordered) change
// the mirror but produce no events. Types lists every event type produced, so
// consumers of vimeo.sync.normalized can tell these from the sync actions
// ("vimeo.video.refetch") that share the topic.
package changeevents
