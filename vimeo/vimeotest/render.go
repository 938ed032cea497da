package vimeotest

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// fieldSet is a parsed fields= parameter. nil means "everything".
type fieldSet struct {
	kids map[string]*fieldSet
}

// parseFields parses "a,b.c,b.d" into a tree. An empty parameter selects all.
func parseFields(s string) *fieldSet {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	root := &fieldSet{kids: map[string]*fieldSet{}}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		cur := root
		parts := strings.Split(f, ".")
		for i, p := range parts {
			if cur.kids == nil { // an earlier, shorter path already selects all below
				break
			}
			_, ok := cur.kids[p]
			last := i == len(parts)-1
			switch {
			case last:
				cur.kids[p] = &fieldSet{} // all below
			case !ok:
				cur.kids[p] = &fieldSet{kids: map[string]*fieldSet{}}
			}
			if !last {
				cur = cur.kids[p]
			}
		}
	}
	return root
}

func (f *fieldSet) all() bool { return f == nil || f.kids == nil }

func (f *fieldSet) want(k string) bool { return f.all() || f.kids[k] != nil }

func (f *fieldSet) sub(k string) *fieldSet {
	if f.all() {
		return nil
	}
	return f.kids[k]
}

// filter keeps only the selected keys of v, through maps and arrays.
func filter(v any, f *fieldSet) any {
	if f.all() {
		return v
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(f.kids))
		for k, sub := range f.kids {
			if val, ok := t[k]; ok {
				out[k] = filter(val, sub)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = filter(e, f)
		}
		return out
	case []map[string]any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = filter(e, f)
		}
		return out
	}
	return v
}

// obj builds a JSON object, computing only the keys the field set selects.
type obj struct {
	f *fieldSet
	m map[string]any
}

func newObj(f *fieldSet) *obj { return &obj{f: f, m: map[string]any{}} }

// put sets k to fn(sub) filtered by the sub-selection, if k is selected.
func (o *obj) put(k string, fn func(sub *fieldSet) any) {
	if !o.f.want(k) {
		return
	}
	sub := o.f.sub(k)
	o.m[k] = filter(fn(sub), sub)
}

// nest sets k to fn(sub), if k is selected; fn must honour sub itself.
func (o *obj) nest(k string, fn func(sub *fieldSet) any) {
	if o.f.want(k) {
		o.m[k] = fn(o.f.sub(k))
	}
}

// val sets k to a plain value, if k is selected.
func (o *obj) val(k string, v any) {
	if o.f.want(k) {
		o.m[k] = filter(v, o.f.sub(k))
	}
}

func ts(t time.Time, zone *time.Location) any {
	if t.IsZero() {
		return nil
	}
	if zone == nil {
		zone = time.UTC
	}
	return t.In(zone).Format("2006-01-02T15:04:05-07:00")
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func conn(uri string, options []string, total *int) map[string]any {
	m := map[string]any{"uri": uri, "options": options}
	if total != nil {
		m["total"] = *total
	}
	return m
}

func intp(n int) *int { return &n }

// renderer turns account objects into Vimeo JSON. It is used under the
// account's read lock.
type renderer struct {
	a    *Account
	opts *Options
}

func (r *renderer) userURI() string { return "/users/" + strconv.FormatInt(r.a.userID, 10) }

func (r *renderer) folderURI(id int64) string {
	return r.userURI() + "/projects/" + strconv.FormatInt(id, 10)
}

func (r *renderer) shortUser() map[string]any {
	uid := strconv.FormatInt(r.a.userID, 10)
	return map[string]any{
		"uri": r.userURI(), "name": r.a.userName, "link": "https://vimeo.com/user" + uid,
		"account": "standard", "created_time": ts(r.a.created, nil), "resource_key": resourceKey("user", r.a.userID),
		"pictures": map[string]any{"uri": nil, "active": false, "type": "default", "base_link": "https://i.vimeocdn.com/portrait/defaults-blue", "sizes": []any{}},
	}
}

// user renders the user object with its connections.
func (r *renderer) user(f *fieldSet) map[string]any {
	o := newObj(f)
	u := r.shortUser()
	for _, k := range []string{"uri", "name", "link", "account", "created_time", "resource_key", "pictures"} {
		o.val(k, u[k])
	}
	o.val("bio", nil)
	o.val("short_bio", nil)
	o.val("location", "")
	o.val("websites", []any{})
	o.put("metadata", func(sub *fieldSet) any {
		base := r.userURI()
		nf, nv := 0, 0
		for id := range r.a.folders {
			if !r.a.hiddenLocked(id) {
				nf++
			}
		}
		for _, v := range r.a.videos {
			if v.FolderID == 0 || !r.a.blockedLocked(v.FolderID) {
				nv++
			}
		}
		return map[string]any{"connections": map[string]any{
			"projects":     conn(base+"/projects", []string{"GET", "POST"}, intp(nf)),
			"folders":      conn(base+"/folders", []string{"GET", "POST"}, intp(nf)),
			"folders_root": conn(base+"/folders/root", []string{"GET"}, nil),
			"videos":       conn(base+"/videos", []string{"GET", "POST"}, intp(nv)),
			"albums":       conn(base+"/albums", []string{"GET"}, intp(0)),
			"teams":        conn(base+"/teams", []string{"GET"}, intp(0)),
		}}
	})
	return o.m
}

// folder renders a folder object.
func (r *renderer) folder(fo *Folder, f *fieldSet) map[string]any {
	a := r.a
	uri := r.folderURI(fo.ID)
	o := newObj(f)
	o.val("uri", uri)
	o.val("name", fo.Name)
	o.val("created_time", ts(fo.Created, fo.Zone))
	o.val("modified_time", ts(fo.Modified, fo.Zone))
	o.val("last_user_action_event_date", ts(fo.LastUserAction, fo.Zone))
	o.val("privacy", map[string]any{"view": fo.Privacy})
	o.val("resource_key", fo.ResourceKey)
	if fo.Privacy == "nobody" {
		o.val("link", nil)
	} else {
		o.val("link", fmt.Sprintf("https://vimeo.com/user/%d/folder/%d", a.userID, fo.ID))
	}
	o.val("manage_link", fmt.Sprintf("/manage/folders/%d", fo.ID))
	o.val("pinned_on", nil)
	o.val("is_pinned", false)
	o.val("is_private_to_user", false)
	o.val("has_subfolder", len(a.subs[fo.ID]) > 0)
	o.val("access_grant", nil)
	o.put("user", func(*fieldSet) any { return r.shortUser() })
	o.nest("metadata", func(sub *fieldSet) any {
		m := newObj(sub)
		m.nest("connections", func(csub *fieldSet) any {
			c := newObj(csub)
			// Totals count what the token can see: nothing inside a revoked
			// folder.
			nsub, nvid := len(a.subs[fo.ID]), len(a.vids[fo.ID])
			if a.blockedLocked(fo.ID) {
				nsub, nvid = 0, 0
			}
			c.val("items", conn(uri+"/items", []string{"GET"}, intp(nsub+nvid)))
			c.val("videos", conn(uri+"/videos", []string{"GET", "DELETE", "PUT"}, intp(nvid)))
			c.val("folders", conn(uri+"/items", []string{"GET", "DELETE", "PUT"}, intp(nsub))) // sic: /items
			if fo.ParentID != 0 {
				c.val("parent_folder", conn(r.folderURI(fo.ParentID), []string{"GET", "DELETE", "PATCH"}, nil))
			}
			c.put("ancestor_path", func(*fieldSet) any {
				path := []any{}
				for cur := fo.ParentID; cur != 0; cur = a.folders[cur].ParentID {
					path = append(path, map[string]any{"uri": r.folderURI(cur), "name": a.folders[cur].Name, "can_upload": true})
				}
				return path
			})
			return c.m
		})
		m.put("interactions", func(*fieldSet) any {
			self := func(opts ...string) map[string]any { return map[string]any{"uri": uri, "options": opts} }
			depth := a.depthLocked(fo.ID)
			return map[string]any{
				"edit": self("PATCH"), "move_video": self("PATCH"), "upload_video": self("POST"),
				"view": self("GET"), "edit_settings": self("PATCH"), "delete": self("DELETE"),
				"delete_video": self("DELETE"),
				"add_subfolder": map[string]any{
					"uri":                           fmt.Sprintf("/user/%d/projects", a.userID), // sic: /user/
					"options":                       []string{"POST"},
					"can_add_subfolders":            depth < MaxDepth,
					"subfolder_depth_limit_reached": depth >= MaxDepth,
					"content_type":                  "application/vnd.vimeo.folder",
					"properties": []any{
						map[string]any{"name": "name", "required": false, "value": ""},
						map[string]any{"name": "parent_folder_uri", "required": true, "value": uri},
					},
				},
			}
		})
		return m.m
	})
	return o.m
}

var pictureSizes = [][2]int{{100, 75}, {200, 150}, {295, 166}, {640, 360}, {960, 540}, {1280, 720}, {1920, 1080}}

// video renders a video object. withParent adds the parent key(s) configured in
// Options.ParentKey (videos inside /items carry none).
func (r *renderer) video(v *Video, f *fieldSet, withParent bool) map[string]any {
	a := r.a
	id := strconv.FormatInt(v.ID, 10)
	unlisted := v.Privacy == "unlisted"
	uri, link := "/videos/"+id, "https://vimeo.com/"+id
	if unlisted {
		uri += ":" + v.Hash
		link += "/" + v.Hash
	}
	embedURL := "https://player.vimeo.com/video/" + id + "?h=" + v.Hash
	o := newObj(f)
	o.val("uri", uri)
	o.val("name", v.Name)
	o.val("description", nullStr(v.Description))
	o.val("type", "video")
	o.val("link", link)
	o.val("player_embed_url", embedURL)
	o.val("duration", v.Duration)
	o.val("width", v.Width)
	o.val("height", v.Height)
	o.val("language", nullStr(v.Language))
	o.put("embed", func(*fieldSet) any {
		return map[string]any{
			"html": fmt.Sprintf(`<iframe src="%s&amp;badge=0&amp;autopause=0&amp;player_id=0&amp;app_id=58479" width="%d" height="%d" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" title="%s"></iframe>`,
				embedURL, v.Width, v.Height, htmlEscape(v.Name)),
			"badges":     map[string]any{"hdr": false, "vod": false, "weekend_challenge": false},
			"buttons":    map[string]any{"like": true, "watchlater": true, "share": true, "embed": true, "hd": false, "fullscreen": true, "scaling": true},
			"logos":      map[string]any{"vimeo": true, "custom": map[string]any{"active": false, "url": nil, "link": nil, "use_link": false, "sticky": false}},
			"title":      map[string]any{"name": "user", "owner": "user", "portrait": "user"},
			"end_screen": []any{}, "playbar": true, "volume": true, "speed": false, "color": "#00adef",
			"event_schedule": true, "interactive": false, "uri": nil,
		}
	})
	o.val("created_time", ts(v.Created, v.Zone))
	o.val("modified_time", ts(v.Modified, v.Zone))
	o.val("release_time", ts(v.Released, v.Zone))
	o.val("last_user_action_event_date", ts(v.LastUserAction, v.Zone))
	o.val("content_rating", []any{"unrated"})
	o.val("content_rating_class", "unrated")
	o.val("rating_mod_locked", false)
	o.val("license", nil)
	embed := v.EmbedPrivacy
	if embed == "" {
		embed = "public"
	}
	o.val("privacy", map[string]any{"view": v.Privacy, "embed": embed, "download": false, "add": true,
		"comments": "anybody", "allow_share_link": true})
	o.put("pictures", func(*fieldSet) any {
		if v.PictureID == 0 {
			return map[string]any{"uri": nil, "active": false, "type": "default",
				"base_link": "https://i.vimeocdn.com/video/default", "sizes": []any{},
				"resource_key": resourceKey("picture-default", v.ID), "default_picture": true}
		}
		pid := strconv.FormatInt(v.PictureID, 10)
		base := "https://i.vimeocdn.com/video/" + pid + "-" + resourceKey("pic", v.PictureID)[:24] + "-d"
		sizes := make([]any, 0, len(pictureSizes))
		for _, s := range pictureSizes {
			l := fmt.Sprintf("%s_%dx%d?r=pad", base, s[0], s[1])
			sizes = append(sizes, map[string]any{"width": s[0], "height": s[1], "link": l,
				"link_with_play_button": "https://i.vimeocdn.com/filter/overlay?src0=" + url.QueryEscape(l) +
					"&src1=http%3A%2F%2Ff.vimeocdn.com%2Fp%2Fimages%2Fcrawler_play.png"})
		}
		return map[string]any{"uri": uri + "/pictures/" + pid, "active": true, "type": "custom",
			"base_link": base, "sizes": sizes, "resource_key": resourceKey("picture", v.PictureID), "default_picture": false}
	})
	o.put("tags", func(*fieldSet) any {
		tags := make([]any, 0, len(v.Tags))
		for _, t := range v.Tags {
			canon := strings.ToLower(strings.ReplaceAll(t, " ", ""))
			tags = append(tags, map[string]any{"uri": "/tags/" + url.PathEscape(canon), "name": t, "tag": t,
				"canonical": canon, "metadata": map[string]any{"connections": map[string]any{
					"videos": conn("/tags/"+url.PathEscape(canon)+"/videos", []string{"GET"}, intp(1))}},
				"resource_key": resourceKey("tag-"+canon, 0)})
		}
		return tags
	})
	o.val("categories", []any{})
	if v.Plays < 0 {
		o.val("stats", map[string]any{"plays": nil})
	} else {
		o.val("stats", map[string]any{"plays": v.Plays})
	}
	o.put("metadata", func(*fieldSet) any {
		return map[string]any{
			"connections": map[string]any{
				"comments":   conn(uri+"/comments", []string{"GET", "POST"}, intp(0)),
				"likes":      conn(uri+"/likes", []string{"GET"}, intp(0)),
				"pictures":   conn(uri+"/pictures", []string{"GET", "POST"}, intp(btoi(v.PictureID != 0))),
				"texttracks": conn(uri+"/texttracks", []string{"GET", "POST"}, intp(0)),
				"related":    nil,
			},
			"interactions": map[string]any{
				"edit":   map[string]any{"uri": uri, "options": []string{"PATCH"}},
				"delete": map[string]any{"uri": uri, "options": []string{"DELETE"}},
			},
			"is_vimeo_create": false, "is_screen_record": false,
		}
	})
	o.val("manage_link", "/manage/videos/"+id)
	o.put("user", func(*fieldSet) any { return r.shortUser() })
	o.put("uploader", func(*fieldSet) any {
		u := r.shortUser()
		return map[string]any{"pictures": u["pictures"]}
	})
	o.val("app", map[string]any{"name": "Vimeo", "uri": "/apps/58479"})
	if v.Status == "available" {
		o.val("play", map[string]any{"status": "playable"})
	} else {
		o.val("play", map[string]any{"status": "unavailable"})
	}
	o.val("status", v.Status)
	o.val("resource_key", v.ResourceKey)
	o.val("upload", map[string]any{"status": v.UploadStatus, "link": nil, "upload_link": nil, "form": nil,
		"approach": nil, "size": nil, "redirect_url": nil})
	o.val("transcode", map[string]any{"status": v.TranscodeStatus})
	o.val("is_playable", v.Status == "available")
	o.val("has_audio", true)
	if r.opts.VideoFiles && v.Status == "available" {
		// Only with the video_files scope on a paid plan. play and download
		// links expire after 24 hours; files links do not.
		expires := ts(r.opts.Clock.Now().Add(24*time.Hour).UTC().Truncate(time.Second), v.Zone)
		file := func(extra map[string]any) map[string]any {
			f := map[string]any{"quality": "hd", "rendition": "1080p", "type": "video/mp4",
				"width": 1920, "height": 1080, "fps": 25, "size": 1 << 26, "md5": nil, "public_name": "1080p",
				"size_short": "64MB", "created_time": ts(v.Created, v.Zone),
				"link": "https://player.vimeo.com/progressive_redirect/playback/" + id + "/rendition/1080p/file.mp4?loc=external&signature=" + v.Hash}
			for k, x := range extra {
				f[k] = x
			}
			return f
		}
		o.put("files", func(*fieldSet) any { return []any{file(nil)} })
		o.put("download", func(*fieldSet) any { return []any{file(map[string]any{"expires": expires})} })
		o.put("play", func(*fieldSet) any {
			return map[string]any{"status": "playable",
				"progressive": []any{map[string]any{"type": "video/mp4", "codec": "H264", "width": 1920, "height": 1080,
					"fps": 25, "size": 1 << 26, "md5": nil, "rendition": "1080p", "created_time": ts(v.Created, v.Zone),
					"link":                 "https://player.vimeo.com/progressive_redirect/playback/" + id + "/container/1080p.mp4?expires=86400",
					"link_expiration_time": expires}},
				"hls": map[string]any{"link": "https://player.vimeo.com/play/" + id + "/hls.m3u8?s=" + v.Hash,
					"link_expiration_time": expires},
			}
		})
	}
	if withParent {
		var parent any
		if v.FolderID != 0 {
			if pf := a.folders[v.FolderID]; pf != nil {
				parent = r.folder(pf, nil)
			}
		}
		switch r.opts.ParentKey {
		case "parent_project":
			o.put("parent_project", func(*fieldSet) any { return parent })
		case "both":
			o.put("parent_folder", func(*fieldSet) any { return parent })
			o.put("parent_project", func(*fieldSet) any { return parent })
		case "none":
		default:
			o.put("parent_folder", func(*fieldSet) any { return parent })
		}
	}
	return o.m
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")
	return r.Replace(s)
}

// item renders one {type, folder|video} envelope.
func (r *renderer) item(e entry, f *fieldSet) map[string]any {
	o := newObj(f)
	if e.folder {
		o.val("type", "folder")
		o.nest("folder", func(sub *fieldSet) any { return r.folder(r.a.folders[e.id], sub) })
		return o.m
	}
	o.val("type", "video")
	o.nest("video", func(sub *fieldSet) any { return r.video(r.a.videos[e.id], sub, false) })
	return o.m
}
