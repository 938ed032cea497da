// Package entitle decides which folders and videos of the mirrored library a
// signed-in user (or an anonymous visitor) may see, and which it may watch.
//
// # Rules
//
// A Rule is (subject, target, effect). Subjects: public (anyone, signed in or
// not: the only subject an anonymous visitor has), everyone (any signed-in
// user), role:<name>, segment:<key>=<value> (a profile segment) and
// user:<id>. Targets: folder:<vimeo id> (the folder's whole subtree) and
// video:<vimeo id>. Effects: allow, deny and teaser. A teaser lists a video
// locked — apps show its title, pictures and duration with its LockReason
// (sign_in, upgrade, purchase) — without letting the audience open or play
// it; a teaser rule must carry a valid LockReason, sign_in only for the
// public subject, and allow and deny rules carry none (Validate). The RuleStore interface keeps rules and the
// entitlement version (store/pgstore and store/memstore implement it); Admin
// is the admin-facing way to add, remove and list rules: every change bumps the
// version in the store and is recorded through an Auditor — in the same
// transaction as the change when the store is an AuditedRuleStore and the
// auditor a TxAuditor (audit.Recorder.RuleChanges), so no change is made
// without its record.
//
// A RuleStore may also be a RuleFeed, a change feed of the rules: each
// version's added rule (whole) or removed rule id, kept FeedRetention
// versions. RuleChangesSince says what changed after a version, net of the
// window (RuleChanges), and RuleChanges.Apply brings the rules of that
// version to the current one, so a reader holding the rules (the library,
// through Index.Rules) does not list them all again. ErrFeedGap (too far
// back, or a version written without an entry) means: call ListRules.
//
// # Semantics (ARCHITECTURE.md §5), exactly
//
// For an audience (a user's id, roles and segments, or Anonymous; see
// Audience) and a video, look from the most specific target outward: the
// video, the folder it is placed in, that folder's parent, … the top-level
// folder. At the first level where any rule matches any of the audience's
// subjects, the answer is deny if a matching rule there denies, otherwise
// allow if a matching rule there allows, otherwise locked (a matching teaser;
// the lowest-id one gives the lock reason). If no level matches: deny. Rules
// about other subjects never decide a level, and the order of rules never
// matters. A teaser is thus an allow that does not let the audience watch:
// specificity first, and at one level deny > allow > teaser — so "everyone
// teaser upgrade" next to "role:premium allow" on a paid folder lists it
// locked to everyone and playable to premium members, and a more specific
// teaser (on a video, say) locks it even for members allowed further up.
// The public subject matches every audience, anonymous or signed in, so
// signed-in users see public content too, unless a more specific rule for
// them decides otherwise.
//
// What is in the library at all:
//
//   - A video that is not playable (tree.Video.Playable: not available in Vimeo,
//     hidden by an admin, or soft-deleted) is invisible whatever the rules say.
//   - A folder is live if neither it nor an ancestor is soft-deleted. Placements
//     in folders that are not live do not count, and such folders are never
//     visible.
//   - A video with no placement in a live folder is not in the library:
//     invisible, even if a rule names it.
//   - A video placed in several folders (Vimeo allows one; the model allows
//     more) is visible iff it is allowed through at least one placement, each
//     placement evaluated along its own chain: the video, that folder, its
//     parent, …. A video-level rule therefore decides for every placement.
//   - A video allowed through no placement but locked through one is listed
//     locked, with the reason of the first such placement (FoldersOf order).
//   - A folder is visible iff at least one video in its subtree is listed
//     (allowed or locked) through a placement inside that subtree. (With one placement per video
//     this is simply "some video in its subtree is visible"; with several, a
//     folder is not revealed by a video that is denied there but allowed
//     elsewhere.)
//
// The property test checks the compiled Index against a literal oracle of these
// sentences on millions of random questions.
//
// # Index, Audience, View
//
// New compiles a tree.Snapshot and the rules into an Index. Visible(audience)
// returns a View: the videos the audience may watch (View.Video), those listed
// locked with their reasons (View.Locked; View.Listed is either) and the
// visible folders,
// computed in one pass over the tree (folders inherit their parent's decision
// unless a matching rule sits on them) and cached. A user that some rule
// names gets the view of its roles and segments (computed once, shared with
// everyone who has them) plus the delta of its own rules: only the subtrees
// of the folders those rules name, the videos they name and the ancestors'
// visibility are recomputed, and the view stores only the answers that
// differ (see Options.MaxCachedAudiences for what views cost). Check and CheckFolder
// answer one question through the cached View; Explain answers one question
// the slow way and says which rule at which level decided (lowest-id deny when
// denied, lowest-id allow when allowed).
//
// Audiences share Views: the cache key is the audience's roles and segments, plus
// its user id only when some rule names that user; behind it, audiences whose
// roles and segments match the same rule subjects share one View. Correctness
// never depends on the cache: a key always determines the set of matching
// subjects, and that set determines the answer. The cache is bounded
// (Options.MaxCachedAudiences, and Options.MaxCachedViewBytes by the views'
// sizes) and evicts the least recently used view, one at a time.
//
// When only the rules change, WithRules derives the new Index from the old
// one: it reuses everything compiled from the snapshot (positions stay the
// same), derives the compiled rules from the old ones when the change is
// near the end in ID order (a rule added, recent ones removed: only the
// rules past the common prefix are compiled), and carries over the cached
// views of audiences none of whose matched subjects' rules changed; the
// others are recomputed on demand. When the
// snapshot changed only in what the Index does not compile (a video's title,
// description, thumbnails or tags), WithSnapshot gives an Index that shares
// the compiled parts and the view cache and names things from the new
// snapshot; the caller vouches that nothing else changed.
//
// When only videos changed (moved to other folders, soft-deleted, made
// unplayable or private, added) and the folders are the same as far as the
// Index is concerned (SameFolders: a rename that keeps the siblings' order
// is), WithVideos patches the
// Index instead of compiling it anew: positions are stable (a video keeps
// its position for good, a new one gets the next free one), so the caller's
// listings stay valid but for the changed videos, and every cached view is
// carried over with the changed videos' answers and the visibility of the
// folders above their old and new placements decided again.
//
// # Admin questions
//
// For the admin console, answered from a compiled Index and never cached:
// ExplainDetail (Explain with every level walked, the rules found there, and
// verified single-rule changes that would flip the answer), Summary (visible
// counts per section: the children of the top-level folder), WhoCanSee
// (which of a list of audiences see a folder or video, and the rules that
// grant it) and Preview (what adding or removing one rule does to each of a
// list of audiences). SubjectAudience turns a rule subject into an audience,
// so each can be asked about a role or segment rather than a user.
//
// # Errors
//
// ErrInvalid: a bad rule, subject, target or option (nothing is built or
// stored). ErrNotFound, ErrDuplicate: from the RuleStore. ErrAudit: a rule
// change was stored but its audit record could not be written; the error says
// which change, and the caller must surface it.
//
// # Concurrency
//
// An Index and its Views are immutable (apart from the internal cache) and safe
// for concurrent use; build a new Index when the snapshot changes (or derive
// one with WithRules when only the rules change) and swap it atomically. Admin is safe for concurrent use if its RuleStore and
// Auditor are.
package entitle
