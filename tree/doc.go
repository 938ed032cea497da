// Package tree is vidlib's model of the mirrored Vimeo library: folders,
// videos, the placement of videos in folders, and Snapshot, an immutable,
// validated view of the whole tree.
//
// # Identity
//
// Every object is keyed by its Vimeo id (the numeric tail of its URI; for an
// unlisted video the ":hash" part is not in the id but in Video.EmbedKey).
// Stores assign internal integer ids too (Folder.ID, Video.ID) for their own
// keys and the materialised path column, but the tree, its diffs and the
// library API speak Vimeo ids, which are stable across re-mirrors.
//
// # Privacy
//
// Video.Visibility and Video.EmbedPrivacy mirror Vimeo's privacy.view and
// privacy.embed. EmbedBlock says whether they keep the embedded player from
// playing the video for app users (view nobody, users or contacts; password
// unless the caller allows it; embed private), and why; entitle leaves such
// videos out of the library.
//
// # Snapshot
//
// New builds a Snapshot from flat lists, as a walk of Vimeo or a store
// produces them, and validates them: an empty id or unknown status is
// ErrInvalid, an id listed twice is ErrDuplicate, a parent or placement target
// that is not there is ErrOrphan, and a parent chain that loops is ErrCycle.
// Each problem is an *Error naming the object; New reports up to ten at once
// (joined) and never panics on bad input. A Snapshot holds adjacency (Children,
// Roots), paths (Path, Ancestors, Depth, IsAncestor: walked up the parents
// on each call, not kept per folder), subtree
// queries (Subtree, SubtreeVideos) and placements (Contents, FoldersOf). It is
// read-only and safe for concurrent use; accessors return copies.
//
// # Store
//
// Store is what the mirror reads and writes: LoadSnapshot, the content
// version, named sync state (the poll cursor), and Update, which runs a set of writes (Tx) in one transaction.
// Every Update that changes anything bumps the content version once, and a
// failed Update keeps nothing, including the outbox rows it enqueued. Folder
// moves rewrite the materialised paths of the whole subtree; deletes are soft
// (DeletedAt), cascade over a folder's subtree and can be restored. The
// implementations are store/pgstore and store/memstore; store/storetest is the
// conformance suite both pass.
//
// Both also implement ContentFeed, the change feed: every Update that bumps
// the content version records, in the same transaction, the folders and
// videos it changed; ContentChangesSince says what changed after a version
// (FeedRetention versions back, ErrFeedGap further) and LoadObjects reads
// just those rows. Snapshot.Patch applies them to a loaded snapshot, sharing
// its unchanged parts, and gives the snapshot New would build from the
// patched rows: a reader keeps its tree current without reading it all.
//
// # Diff and Mirror
//
// Diff compares two snapshots (the mirror, with its soft-deleted objects, and
// the source) and returns ordered Changes: folders created, restored, moved,
// renamed, updated, parents first; videos created, restored, moved,
// reordered, updated; then deletions, videos first and folders children
// first. Each Change carries the record it applies, and a folder restore also
// the cascade the store's restore must not bring back (Change.KeepDeleted:
// descendants deleted with the folder that the source no longer has), so one
// pass of changes leaves the mirror equal to the source.
//
// Mirror keeps a Store equal to a Source (tree/vimeosource over Vimeo).
// Reconcile walks, diffs and applies, in transactions of at most
// MirrorOptions.BatchSize changes that each bump the content version and run
// MirrorOptions.Record (tree/changeevents writes the outbox events). Its
// safety rules: a walk that is not complete and consistent applies creates,
// updates and moves but never deletes; every deletion is confirmed by a
// direct read (404: deleted; found outside the root: deleted, it left the
// mirror; 403: a video becomes StatusUnavailable, a folder is kept); a run
// that would delete more than MaxDeleteShare of the tree holds every deletion
// for an admin (ReconcileOptions.AllowMassDelete). Poll applies the source's
// recent changes and stores the next Cursor in the same transaction (sync
// state PollCursorState); RefreshVideo re-reads one video (the webhook path).
// Every run is written to sync_runs (quiet polls only with
// RecordQuietPolls).
//
// The mirror keeps the snapshot it last loaded (with deleted objects) and
// loads again only when the content version moved. After it applies
// changes it computes the resulting snapshot in memory (the changes run
// against a model of the Tx semantics) and keeps that at the new version,
// unless another writer committed in between (the version moved by more than
// its own transactions); so a reconciliation loads the store at most once,
// and a warm mirror whose store nobody else changed loads it not at all. A
// Mirror is safe for concurrent use: the applying phases
// are serialised, and Reconcile walks outside that lock.
//
// # Admin operations
//
// DryRun walks and diffs without writing anything (no sync run either).
// Every run keeps its applied changes and held deletions in its sync run
// (SyncRun.Changes, HeldChanges, capped at MaxRecordedChanges); Describe
// puts a change into words with names and paths. A run that held deletions
// is pending (HeldRuns) until an admin calls ApproveHeld (a reconciliation
// allowed to delete, every deletion still confirmed by a read) or
// RejectHeld. Stores keep these rules through FinishHeldStatus (the status
// a run finishes with) and CheckHeldDecision (what a decision may be).
// ReconcileFolder reconciles one subtree on demand (sources that implement
// FolderWalker); RefreshVideo one video. SetVideoHidden hides a video from
// users.
//
// Errors from stores wrap this package's sentinels, so callers write
// errors.Is(err, tree.ErrNotFound) whatever store they use.
package tree
