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
// # Snapshot
//
// New builds a Snapshot from flat lists, as a walk of Vimeo or a store
// produces them, and validates them: an empty id or unknown status is
// ErrInvalid, an id listed twice is ErrDuplicate, a parent or placement target
// that is not there is ErrOrphan, and a parent chain that loops is ErrCycle.
// Each problem is an *Error naming the object; New reports up to ten at once
// (joined) and never panics on bad input. A Snapshot holds adjacency (Children,
// Roots), materialised paths (Path, Ancestors, Depth, IsAncestor), subtree
// queries (Subtree, SubtreeVideos) and placements (Contents, FoldersOf). It is
// read-only and safe for concurrent use; accessors return copies.
//
// # Store
//
// Store is what the mirror reads and writes: LoadSnapshot, the content
// version, and Update, which runs a set of writes (Tx) in one transaction.
// Every Update that changes anything bumps the content version once, and a
// failed Update keeps nothing, including the outbox rows it enqueued. Folder
// moves rewrite the materialised paths of the whole subtree; deletes are soft
// (DeletedAt), cascade over a folder's subtree and can be restored. The
// implementations are store/pgstore and store/memstore; store/storetest is the
// conformance suite both pass.
//
// Errors from stores wrap this package's sentinels, so callers write
// errors.Is(err, tree.ErrNotFound) whatever store they use.
package tree
