package redisstore

import (
	"strconv"
	"strings"
)

// Key is a cache key built by one of the key builders below. It knows its name (the seed's
// scheme) and its owner (the folder, video, user or the library root it belongs to),
// which is what subtree invalidation works on. The zero Key is invalid: every method
// rejects it with ErrInvalid. Builders return the zero Key for an empty id or a negative
// version, so bad input is caught at the first use.
//
// Id, role, profile and segment components are escaped ('%' → "%25", ':' → "%3A") so
// that a component can never be confused with a separator; ids of the usual shapes
// (digits, UUIDs, lower-case names, hex hashes) appear unchanged.
type Key struct {
	name  string
	owner string
}

// String returns the key's name without the store prefix, e.g.
// "folder:123:member:ab12:7".
func (k Key) String() string { return k.name }

// IsZero reports whether k is the invalid zero Key.
func (k Key) IsZero() bool { return k.name == "" }

// Owner returns what the key belongs to, e.g. "folder:123" or "library:root".
func (k Key) Owner() string { return k.owner }

const rootOwner = "library:root"

// LibraryRootKey is the cached library root (top-level listing) for an audience:
// library:root:{role}:{profile_hash}:{version}. Its owner is the library root, so
// InvalidateLibraryRoot removes every role/profile/version of it.
func LibraryRootKey(role, profileHash string, version int64) Key {
	if version < 0 {
		return Key{}
	}
	return Key{name: rootOwner + ":" + esc(role) + ":" + esc(profileHash) + ":" + v(version), owner: rootOwner}
}

// FolderKey is a folder's cached contents for an audience:
// folder:{folder_id}:{role}:{profile_hash}:{version}. Owner: the folder.
func FolderKey(folderID, role, profileHash string, version int64) Key {
	if folderID == "" || version < 0 {
		return Key{}
	}
	owner := folderOwner(folderID)
	return Key{name: owner + ":" + esc(role) + ":" + esc(profileHash) + ":" + v(version), owner: owner}
}

// VideoKey is a video's cached detail for a user segment:
// video:{video_id}:{segment}:{version}. Owner: the video.
func VideoKey(videoID, segment string, version int64) Key {
	if videoID == "" || version < 0 {
		return Key{}
	}
	owner := videoOwner(videoID)
	return Key{name: owner + ":" + esc(segment) + ":" + v(version), owner: owner}
}

// RankedKey is a user's ranked feed: ranked:{user_id}:{version}. Owner: the user's feed,
// so SetRanked can replace every version of it at once.
func RankedKey(userID string, version int64) Key {
	if userID == "" || version < 0 {
		return Key{}
	}
	owner := rankedOwner(userID)
	return Key{name: owner + ":" + v(version), owner: owner}
}

func folderOwner(id string) string { return "folder:" + esc(id) }
func videoOwner(id string) string  { return "video:" + esc(id) }
func rankedOwner(id string) string { return "ranked:" + esc(id) }

// indexName is the sorted set that lists the keys of an owner (see doc.go).
func indexName(owner string) string { return "idx:" + owner }

func v(version int64) string { return strconv.FormatInt(version, 10) }

var escaper = strings.NewReplacer("%", "%25", ":", "%3A")

func esc(s string) string {
	if !strings.ContainsAny(s, "%:") {
		return s
	}
	return escaper.Replace(s)
}
