// Package rank computes each user's ranked feed of videos, with a reason for
// every video, from what the user may see and how they and their audience
// watch.
//
// # Model, User, Feed
//
// A Model is built from a compiled entitlement index (entitle.Index: the
// snapshot and the rules) and the watch history of every user (for
// popularity within an audience and completion rates). Model.Rank ranks one
// user: candidates come only from the user's entitlement view
// (entitle.Index.Visible), so a feed never holds a video the user may not see
// when it is computed; callers that serve a stored feed filter it again
// against the current index (Filter), so a video the user lost access to
// disappears before any recompute.
//
// # Features, Scorer, Reason
//
// For a user and a candidate video the Model computes Features: continue
// watching (an unfinished video, weighted by how recent), affinity (watch
// time and completions in the video's folder subtree, recency weighted),
// popularity within the user's audience (users with the same entitlement
// cache key), freshness and the video's completion rate. A Scorer turns
// Features into Contributions, one per Signal; the score is their sum and the
// Reason is the largest contribution, in words an app can show ("Because you
// watched Q3 review in Sales", "Popular with members", "New in Onboarding",
// "Continue watching"). Linear is the default Scorer; a team can plug in its
// own through Options.Scorer.
//
// Diversity: the first Options.TopWindow items (default 10) hold at most
// Options.MaxPerFolder (default 3) videos from one folder, unless the visible
// library has too few folders. Cold start: a user with no history of videos
// they may see gets the videos popular within the audience, most popular
// first, then the others, newest first (the Scorer is not consulted).
//
// Completed videos are not recommended again.
//
// # Concurrency
//
// A Model is immutable once built and safe for concurrent use; Rank may be
// called from many goroutines. Popularity and completion rates are those of
// the histories the Model was built from: incremental recomputes of one user
// use the user's new history with the Model's popularity, refreshed when the
// Model is rebuilt on schedule.
package rank
