// Package dataset generates the benchmark library of `vidlib bench`:
// a folder tree, videos, entitlement rules, users and the audiences they
// form, deterministic by seed, and loads it into the stores the API reads.
//
// # Shape
//
// Generate builds Options.Folders folders under one root (the mirrored Vimeo
// root folder, level 1): a spine reaches level Options.Depth exactly, and
// every other folder hangs under a random folder above the deepest level.
// Videos are placed one each in random folders; about 3 % are not playable
// and a fifth are unlisted. The lists are valid for tree.New (Snapshot).
//
// Users carry roles and profile segments drawn from a small catalogue
// (role-00…role-23; tier, region, optional plan) so that they form exactly
// Options.Audiences distinct audiences, each with at least one user. Rules
// are exactly Options.Rules distinct (subject, target) pairs: first one
// allow per role on a subtree under the root, so that every audience sees
// something, then random rules over every subject kind (everyone, role:,
// segment:, user:), folder targets favouring shallow levels, video targets,
// allows and denies.
//
// # Loading
//
// Load writes the data set into a tree.Store, an entitle.RuleStore and an
// auth.UserStore (store/memstore or store/pgstore): every user becomes an
// identity of the given token issuer with its roles granted and its segments
// as its stored profile, so that auth.Service resolves a token for that
// subject to that user. User rules are resolved to the assigned user ids.
// A store with a bulk path (BulkStore: store/pgstore, with COPY) takes the
// tree, the users and the rules in one call each; others are written
// through their ordinary methods.
//
// Workload then samples, per audience (and per user a rule names), folders
// and videos the audience can see (hits) and cannot see (misses), asking the
// compiled entitle.Index one video at a time (Explain), so that sampling
// costs the same at any library size, and returns the load generator's
// users and audiences. Compile builds that index from the generated data
// alone, for a process that did not store it. Tokens are input: this
// package does not mint them.
//
// # The change stream's share
//
// One video in a hundred (ChurnVideo) and the last users (ChurnUsers) are
// the bench's change stream's to move, delete and name in rules: Workload
// samples none of those videos, no folder holding one as a miss, and leaves
// those users out of the load, so the stream never turns a sampled hit
// into a miss or a miss into a hit.
//
// # Errors and concurrency
//
// ErrInvalid: options that describe no data set. Store errors are returned
// wrapped with the object that failed. A Dataset is read-only after
// Generate and safe for concurrent reads; Workload samples on
// SampleOptions.Workers goroutines.
package dataset
