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
//
// Workload then samples, per audience, folders and videos the audience can
// see (hits) and cannot see (misses), asking the compiled entitle.Index, and
// returns the load generator's users and audiences. Tokens are input: this
// package does not mint them.
//
// # Errors and concurrency
//
// ErrInvalid: options that describe no data set. Store errors are returned
// wrapped with the object that failed. A Dataset is read-only after
// Generate and safe for concurrent reads.
package dataset
