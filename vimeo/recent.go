package vimeo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// RecentOptions configures a Recent poll. The zero value polls the client's user
// and returns only the first page (to establish a watermark).
type RecentOptions struct {
	// UserID whose videos are polled; default the client's user. For team
	// libraries use the owner's id.
	UserID string
	// Since is the watermark: videos modified at or after it are returned, and
	// paging stops at the first older one. Zero returns the first page only.
	Since time.Time
	// LastModified is the Last-Modified header of the previous poll. It is sent
	// back as If-Modified-Since (verbatim, whatever its format); when empty,
	// Since is sent instead, as an HTTP date.
	LastModified string
	// Folders also polls the folder list (sorted by modified_time, newest first)
	// down to FolderSince (default Since). Vimeo has no conditional request
	// there, so this costs at least one call.
	Folders     bool
	FolderSince time.Time
	// MaxPages bounds the pages read per collection. Default 20.
	MaxPages int
	// CallsPerMinute caps this poll's request rate; 0 means no cap.
	CallsPerMinute int
}

// RecentResult is what changed since the watermark.
type RecentResult struct {
	// NotModified is true when Vimeo answered 304 to If-Modified-Since: no video
	// changed (Videos is empty and the watermark is unchanged).
	NotModified bool
	Videos      []Video  // modified at or after Since, newest first
	Folders     []Folder // modified at or after FolderSince, newest first
	// Watermark is the newest video modified_time seen (never before Since);
	// FolderWatermark the same for folders. Pass them back on the next poll.
	Watermark       time.Time
	FolderWatermark time.Time
	// LastModified is the videos answer's Last-Modified header, for the next poll.
	LastModified string
	// Truncated is true when MaxPages ran out before the watermark was reached:
	// more changed than was read, and a walk should follow.
	Truncated bool
	Calls     int
}

// Recent polls /users/{uid}/videos?sort=modified_time&direction=desc with
// If-Modified-Since and stops at the watermark; with Folders set it does the same
// over the folder list. Videos in these lists carry no parent folder: fetch the
// ones that matter with Video to learn where they now sit.
func (c *Client) Recent(ctx context.Context, opts *RecentOptions) (*RecentResult, error) {
	var o RecentOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 20
	}
	if o.FolderSince.IsZero() {
		o.FolderSince = o.Since
	}
	up, err := c.userPath(o.UserID)
	if err != nil {
		return nil, err
	}
	m := &meter{}
	budget := newBudget(c.clock, o.CallsPerMinute)
	res := &RecentResult{Watermark: o.Since, FolderWatermark: o.FolderSince}
	defer func() { res.Calls = int(m.requests.Load()) }()

	ims := strings.TrimSpace(o.LastModified)
	if ims == "" && !o.Since.IsZero() {
		ims = o.Since.UTC().Format(http.TimeFormat)
	}
	first, err := c.listURL(up+"/videos", VideoFields, &ListOptions{Sort: "modified_time", Direction: "desc"})
	if err != nil {
		return nil, err
	}
	next := first
	for page := 0; next != ""; page++ {
		if page >= o.MaxPages {
			res.Truncated = true
			break
		}
		cl := &call{budget: budget, meter: m}
		if page == 0 && ims != "" {
			cl.header = http.Header{"If-Modified-Since": {ims}}
		}
		var p Page[Video]
		resp, err := c.do(ctx, next, cl, &p)
		if err != nil {
			return nil, fmt.Errorf("vimeo: recent videos: %w", err)
		}
		if page == 0 {
			res.LastModified = resp.Header.Get("Last-Modified")
			if resp.NotModified {
				res.NotModified = true
				if res.LastModified == "" {
					res.LastModified = o.LastModified
				}
				break
			}
		}
		stop := o.Since.IsZero()
		for _, v := range p.Data {
			if !o.Since.IsZero() && v.ModifiedTime.Before(o.Since) {
				stop = true
				break
			}
			res.Videos = append(res.Videos, v)
			if v.ModifiedTime.After(res.Watermark) {
				res.Watermark = v.ModifiedTime
			}
		}
		if stop {
			break
		}
		if next, err = nextLink(p.Paging.Next, next); err != nil {
			return nil, err
		}
	}

	if !o.Folders {
		return res, nil
	}
	first, err = c.listURL(up+"/projects", FolderFields, &ListOptions{Sort: "modified_time", Direction: "desc"})
	if err != nil {
		return nil, err
	}
	pages := 0
	err = paginate(ctx, c, first, &call{budget: budget, meter: m}, func(p *Page[Folder]) error {
		pages++
		for _, f := range p.Data {
			if !o.FolderSince.IsZero() && f.ModifiedTime.Before(o.FolderSince) {
				return StopPaging
			}
			res.Folders = append(res.Folders, f)
			if f.ModifiedTime.After(res.FolderWatermark) {
				res.FolderWatermark = f.ModifiedTime
			}
		}
		if o.FolderSince.IsZero() {
			return StopPaging
		}
		if pages >= o.MaxPages {
			res.Truncated = true
			return StopPaging
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vimeo: recent folders: %w", err)
	}
	return res, nil
}
