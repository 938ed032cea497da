package library

import (
	"bytes"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// The hot answers (home, folder pages, video detail) are encoded by
// appending JSON fragments instead of through encoding/json's reflection: a
// folder page is mostly the same video and folder objects in different
// company, so each node keeps its own encoding, made once per generation on
// first use. The output is byte for byte what json.Marshal makes of the typed
// answer (Home, FolderPage, VideoDetail); encode_test.go holds that.

// fragment is an encoding made on first use and kept. Two goroutines may both
// make it; they make the same bytes, and either result is kept.
type fragment struct{ p atomic.Pointer[[]byte] }

func (f *fragment) get(make func([]byte) []byte) []byte {
	if b := f.p.Load(); b != nil {
		return *b
	}
	b := bytes.Clone(make(nil)) // kept for the generation: no spare capacity
	f.p.Store(&b)
	return b
}

// summaryJSON is the video's VideoSummary object.
func (vn *videoNode) summaryJSON() []byte {
	return vn.summaryFrag.get(func(b []byte) []byte {
		return append(appendVideoFields(b, vn.v, false), '}')
	})
}

// appendListed appends the video's VideoSummary as the view lists it: with
// locked and lock_reason when a teaser locks it.
func appendListed(b []byte, vn *videoNode, view *entitle.View) []byte {
	sum := vn.summaryJSON()
	if reason, ok := view.LockedAt(vn.pos); ok {
		return appendLock(append(b, sum[:len(sum)-1]...), reason)
	}
	return append(b, sum...)
}

// appendLock appends the lock fields of a locked video and closes its
// object (they are the last fields of VideoSummary and VideoDetail).
func appendLock(b []byte, reason entitle.LockReason) []byte {
	b = append(b, `,"locked":true,"lock_reason":`...)
	b = appendJSONString(b, string(reason))
	return append(b, '}')
}

// appendVideoFields opens a video object and appends the fields VideoSummary
// and VideoDetail share, in their order (with the description for a detail),
// up to created_at.
func appendVideoFields(b []byte, v *tree.Video, description bool) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, v.VimeoID)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, v.Title)
	if description {
		b = append(b, `,"description":`...)
		b = appendJSONString(b, v.Description)
	}
	if v.ThumbnailURL != "" {
		b = append(b, `,"thumbnail_url":`...)
		b = appendJSONString(b, v.ThumbnailURL)
	}
	b = append(b, `,"thumbnails":`...)
	b = appendThumbnails(b, v.Pictures)
	b = append(b, `,"duration_seconds":`...)
	b = strconv.AppendInt(b, int64(v.DurationSeconds), 10)
	return appendJSONTime(b, `,"created_at":`, v.CreatedAt)
}

// refJSON is the folder's FolderRef object.
func (n *folderNode) refJSON() []byte {
	return n.refFrag.get(func(b []byte) []byte { return appendRef(b, n.ref) })
}

// summaryPrefix is the folder's FolderSummary object up to its counts:
// `{"id":"…","name":"…","folder_count":`.
func (n *folderNode) summaryPrefix() []byte {
	return n.summaryFrag.get(func(b []byte) []byte {
		b = append(b, `{"id":`...)
		b = appendJSONString(b, n.ref.ID)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, n.ref.Name)
		return append(b, `,"folder_count":`...)
	})
}

// crumbsJSON is the folder's breadcrumb array (its ancestors below the roots).
func (n *folderNode) crumbsJSON() []byte {
	return n.crumbsFrag.get(func(b []byte) []byte { return appendRefs(b, n.crumbs()) })
}

func appendRef(b []byte, r FolderRef) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, r.Name)
	return append(b, '}')
}

func appendRefs(b []byte, refs []FolderRef) []byte {
	b = append(b, '[')
	for i, r := range refs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRef(b, r)
	}
	return append(b, ']')
}

// appendSummary appends the folder's FolderSummary with the counts and the
// cover (nil: none) the view gives it.
func appendSummary(b []byte, n *folderNode, folders, videos int, cover *videoNode) []byte {
	b = append(b, n.summaryPrefix()...)
	b = strconv.AppendInt(b, int64(folders), 10)
	b = append(b, `,"video_count":`...)
	b = strconv.AppendInt(b, int64(videos), 10)
	if cover != nil {
		b = append(b, `,"cover":`...)
		b = append(b, cover.coverJSON()...)
	}
	return append(b, '}')
}

// coverJSON is the Cover object of a folder whose cover is this video.
func (vn *videoNode) coverJSON() []byte {
	return vn.coverFrag.get(func(b []byte) []byte {
		b = append(b, `{"video_id":`...)
		b = appendJSONString(b, vn.v.VimeoID)
		b = append(b, `,"thumbnails":`...)
		b = appendThumbnails(b, vn.v.Pictures)
		return append(b, '}')
	})
}

// appendThumbnails appends the pictures as a Thumbnail array.
func appendThumbnails(b []byte, ps []tree.Picture) []byte {
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"width":`...)
		b = strconv.AppendInt(b, int64(p.Width), 10)
		b = append(b, `,"height":`...)
		b = strconv.AppendInt(b, int64(p.Height), 10)
		b = append(b, `,"url":`...)
		b = appendJSONString(b, p.URL)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONTime appends key and the time as encoding/json writes it
// (RFC 3339 with nanoseconds), or nothing for the zero time (omitzero).
func appendJSONTime(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = append(b, key...)
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string escaped the way encoding/json
// escapes it by default: quote, backslash and control characters; <, > and &
// (as \u003c, \u003e, \u0026) so that the JSON is safe inside HTML; U+2028
// and U+2029; and each byte of invalid UTF-8 replaced by \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
