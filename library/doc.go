// Package library is vidlib's read service: what the app calls to browse the
// mirrored Vimeo library as a signed-in user. It never calls Vimeo; every
// answer comes from memory, built from the Store (PostgreSQL or memstore).
//
// # Generations
//
// A Service serves from one immutable generation at a time, held in an
// atomic pointer: the tree.Snapshot, the compiled entitle.Index, per-folder
// listings in Vimeo's order (subfolders by SortOrder, videos by placement
// order), breadcrumbs, the recently-added order, and a bounded LRU of encoded
// answers that belongs to the generation. Refresh compares the store's
// content and entitlement versions with the loaded ones and builds a new
// generation when either moved — the tree on a content change, only the
// index on an entitlement change — then swaps the pointer. A content rebuild
// derives the listings and compiles the index side by side; the
// recently-added order is sorted on the first home page a generation serves. Readers never wait
// for a build and never see a half-built generation; the old generation's
// caches die with it, so a version bump invalidates by construction.
//
// A content change is patched in rather than reloaded when the store has a
// change feed (tree.ContentFeed; both stores do) that reaches back to the
// loaded content version: the rows the feed names are read
// (LoadObjects) and patched into the snapshot (tree.Snapshot.Patch). A
// metadata edit — videos whose title, description, thumbnails or tags
// changed, with the same playability, Vimeo privacy, creation time,
// placements and whether they have thumbnails, and no folder changed —
// keeps the compiled index with its cached views and the listings, with new
// nodes for the edited videos only: milliseconds at 100,000 videos. Any
// other change of videos alone (moves, reorders, deletes, restores, new
// videos, playability, privacy, creation times) patches the index
// (entitle.Index.WithVideos: positions stable, cached views carried over)
// and the listings: new nodes for the changed videos, their old and new
// folders listed anew, the covers of those folders and their ancestors
// chosen again, the playable videos copied once with the changed ones in
// their newest-first place. The search index is then the last rebuilt one
// with the postings of the videos changed since made anew (an overlay: the
// changed videos are tokenized, not the library), its documents renumbered
// after a move, a delete or a new video (an edit after that derives from
// the index before it rather than renumbering again). Past 4,096 videos (or 16,384
// folders listed anew) patched since, and after a folder change, the
// listings are derived from the patched snapshot in memory, without the
// store read; the index is still kept or patched (a folder rename that
// keeps the siblings' order changes nothing it compiles) unless the
// folders' shape changed (a folder added, moved, reordered or deleted) or
// 16,384 video changes were patched into it since it was compiled: then it
// is compiled anew and its views start cold. After such a rebuild that keeps the documents —
// the same playable placed videos and the same folders in the same tree
// order, as a folder rename does — the new content's search index is
// derived from the one before (its postings shared, the changed texts
// tokenized, positions and folder lists made anew), with
// Options.WarmSearch; after any other change it is built again for the new
// content, as after a reload.
// The full reload remains the fallback — a store
// without a feed, a feed that no longer reaches back (tree.ErrFeedGap), more
// than 50,000 changed objects, a patch that does not validate — and Reload
// always reads the whole tree (the check: a property test compares patched
// generations with reloaded ones). Options.NoPatch turns patching off.
//
// Likewise an entitlement change reads only the rules that changed when the
// store has a rule change feed (entitle.RuleFeed; both stores do) that
// reaches back to the loaded entitlement version, and applies them to the
// loaded rules (entitle.RuleChanges.Apply) before deriving the index
// (entitle.Index.WithRules); ListRules is the fallback (no feed, a gap,
// an error, changes that do not fit) and Options.NoPatch turns it off too.
//
// Run keeps the generation current: it loads the first one (retrying), then
// rebuilds when Options.Versions announces a newer version (Redis pub/sub;
// an announced version the store does not show yet is retried briefly) and
// checks the store every Options.PollInterval as a fallback. Ready is false
// until the first generation is loaded, and reads return ErrNotReady.
//
// # Reads and entitlement
//
// A Viewer (user id, roles, segments, decided by the server's
// authentication; or Anonymous, a visitor who has not signed in and sees
// only what public rules show — PublicEnabled says whether any does)
// becomes an entitle.Audience. Home lists the visible
// children of the snapshot's root folders, the visible videos placed in a
// root, and a recently-added row; Folder a visible folder, its breadcrumb
// (ancestors below the root, all visible because a visible folder's
// ancestors are) and a page of its visible subfolders then visible videos;
// Video and Playback re-check the video on every call. A video a teaser rule
// locks is listed with Locked and LockReason and has a detail, but Playback
// refuses it with a *LockedError (ErrLocked). Counts are of listed items
// only (locked ones included). A folder or video the viewer may not see is ErrNotFound, exactly
// like one that does not exist. Ids must look like Vimeo ids (ValidID) and
// cursors like ours, else ErrInvalid.
//
// Folder cursors are opaque and versioned: they carry the offset and the last
// item of the previous page, so a listing that changed between pages resumes
// after that item when it is still there.
//
// # Caches
//
// The XxxJSON methods return a *Body (JSON, ETag, gzip made once) and cache
// it per generation, keyed by what decides the answer: the audience's
// entitle CacheKey, the folder and page; video details and playback per
// video (the access check still runs on every call). A miss is cheap: the
// answer is appended from JSON fragments each folder and video encodes once
// per generation (byte for byte what encoding/json makes of the typed
// answer), and visibility is a bit test at the node's index position. With
// Options.Cache set, home and folder pages are also looked up in and written
// behind to a shared cache under the seed's versioned keys (library:root:…,
// folder:…); any error there is a miss. Measured, a Redis round trip costs
// more than building the page (servers/api BenchmarkFolderMissSharedCache),
// so the reference API server leaves it off unless --redis-page-cache.
// InvalidateFolder is the admin's subtree invalidation.
//
// # Ranked feeds
//
// Feed (and FeedJSON, AppendFeedJSON, and AppendRankedRowJSON for the
// home's ranked_for_you row) serve the feed the ranking pipeline stored
// (Options.Feeds, usually FeedChain of Redis and PostgreSQL); nothing is
// ranked on a request. Every request filters the stored feed again against
// the current generation: a video the viewer may no longer see is skipped
// at once, and a reason never names a video or folder the viewer may not
// see. With Options.FeedChanges (the pipeline's announcements of the users
// whose feed it wrote), the Service keeps the stored feeds of the users it
// served last (MaxCachedFeeds, least recently served out first; users with
// no feed yet apart, up to 16 times as many), decoded
// and resolved against the generation's tree, each item's JSON made once:
// a request then reads neither Redis nor PostgreSQL. A kept feed is read
// again when its user is announced, when any announcement may have been
// lost (an empty user id), on a content change, and after FeedMaxAge; a
// read that began before an announcement is served but not kept.
//
// # Chat context
//
// ChatContext (with Options.Chat) answers the HubSpot chat context of a
// video after the same access check as Playback: the visitor
// identification from ChatOptions.Tokens (hubspot.Tokens) within
// ChatOptions.Timeout, the user, the video, its folder path, the rank
// reason when the viewer's stored feed (Options.Feeds) holds the video, and
// the widget's hsConversationsSettings with a page path whose query
// (vidlib_video, vidlib_folder, vidlib_folder_path, vidlib_reason) chatflow
// targeting can match. When no token comes in time the answer says why
// (ChatIdentification.Reason, from the error's Code method) and carries the
// context alone; a viewer without email is never sent to HubSpot. Each
// answer goes to ChatOptions.Records and Audit before it is returned (a
// failure is ErrUnavailable), never with the token.
//
// # Search
//
// Search answers a query over the viewer's entitled library: video titles,
// Vimeo tags and descriptions, folder names and folder paths. It uses an
// inverted index held in memory with the generation's content (shared by
// generations that differ only in their rules) and built on the first
// search of a content generation, or in the background right after a
// content rebuild with Options.WarmSearch, so the snapshot build does not
// pay for it. Text is folded (lower case, accents removed, compatibility
// forms decomposed: "episode" finds "Épisode") and cut into words; runs of
// Han, Kana and Hangul, written without spaces, are matched as substrings
// ("研修" finds "新人研修") through postings of their characters and
// character pairs. Every word of the query must match: the last one, while
// it is being typed (no trailing space, two letters or more), also as the
// start of a word, and words of five letters or more also with one edit
// (an insertion, deletion, substitution or swap of neighbours). A folder's
// name is indexed with the folder and its ancestors' names as its path; a
// matching folder passes its match on to the videos placed in it.
//
// Results (videos and folders) are ranked by the sum over the query's words
// of where each matches best (title or folder name, then tags, description,
// folder path; a match in a better field always wins) and how (the word
// itself, then a word it begins, then one edit away), newest video first
// among equals, then folders in tree order. Entitlement is applied to every
// match, a bit test per match as in every other read, before anything is
// counted: the counts, the pages and the snippets depend only on what the
// viewer may see, and a scope folder they may not see is ErrNotFound.
// Highlights are HTML snippets with the matches in <mark>; cursors are
// offsets bound to the query and scope. Search never calls Vimeo.
//
// Why in memory: the generation is already in memory, and so is the compiled
// entitlement index that decides each match; a typical query costs about a
// millisecond of CPU or less at 100,000 videos (BenchmarkSearch, servers/api
// BenchmarkSearchHTTP), against a PostgreSQL
// round trip (full-text search with pg_trgm) or a second index (bleve) that
// would return matches entitlement must then filter one by one in process
// anyway, since exact counts of what the viewer may see need every match
// checked.
//
// # Thumbnails and covers
//
// Every video in listings and details carries Thumbnails, every size Vimeo
// renders (pictures.sizes, mirrored with the video), for an img srcset; the
// largest stays ThumbnailURL. A folder summary carries a Cover: the
// thumbnails of the first playable video with thumbnails in the folder in
// listing order (its own videos, then its subfolders' depth first), among
// the first CoverCandidates such videos, that the viewer may see.
//
// # Errors and concurrency
//
// Errors wrap ErrNotFound, ErrInvalid, ErrNotReady, ErrLocked (a
// *LockedError: playback of a teaser-locked video) or ErrUnavailable (an
// auditor configured for playback failed). A Service is safe for concurrent
// use; Bodies are shared and read-only. Concurrent first searches of a
// content generation wait for the one index build.
package library
