// Package rankeval evaluates rank's scorers offline on a synthetic
// interaction log with planted preferences.
//
// Generate builds a library (topic folders with subfolders under one root,
// videos with an appeal and a creation time), users who each have a hidden
// affinity for one or two topics, and a log of watches over a period: most
// of a user's watches are in their topics (appealing videos more often), the
// rest are of videos popular with everyone. Evaluate splits the log in time
// (everything before the split trains a rank.Model dated at the split; each
// user's later watches of videos they had not seen are the truth), ranks
// every user with each scorer (leaving out of the ranked list what the user
// watched before the split, so continue watching does not count), and reports NDCG@10, recall@20 and catalogue
// coverage (the share of videos that appear in some user's top 10).
//
// Everything is deterministic given Options.Seed.
package rankeval
