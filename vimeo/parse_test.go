package vimeo

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tt, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return tt
}

func TestParseItemsPageFixture(t *testing.T) {
	var p Page[Item]
	require.NoError(t, decodeJSON(readFixture(t, "items_mixed.json"), &p))
	require.Equal(t, 5, p.Total)
	require.Equal(t, 1, p.Page)
	require.Equal(t, 4, p.PerPage)
	require.Equal(t, "/users/1001/projects/5002/items?fields=type%2Cfolder.uri&page=2&per_page=4", p.Paging.Next)
	require.Empty(t, p.Paging.Previous)
	require.Len(t, p.Data, 4)

	f := p.Data[0].Folder
	require.NotNil(t, f)
	require.Equal(t, "folder", p.Data[0].Type)
	require.Equal(t, Folder{
		URI: "/users/1001/projects/5003", ID: "5003", OwnerID: "1001", Name: "Episode 3",
		CreatedTime:        mustTime(t, "2024-05-01T10:00:00Z"),
		ModifiedTime:       mustTime(t, "2024-05-03T08:30:00Z"),
		LastUserActionTime: mustTime(t, "2024-05-03T08:30:00Z"),
		ResourceKey:        "3f9c0c7e2a1b4d5e6f708192a3b4c5d6e7f80912",
		PrivacyView:        "nobody",
		ItemsURI:           "/users/1001/projects/5003/items", ItemsTotal: 2, VideosTotal: 2, FoldersTotal: 0,
		ParentKnown: true, ParentURI: "/users/1001/projects/5002", ParentID: "5002",
		Ancestors: []FolderRef{
			{URI: "/users/1001/projects/5002", ID: "5002", Name: "Season 1"},
			{URI: "/users/1001/projects/5001", ID: "5001", Name: "Shows"},
		},
	}, normalizeFolder(*f))

	v := p.Data[1].Video
	require.NotNil(t, v)
	require.Equal(t, "900000001", v.ID)
	require.Equal(t, "0a1b2c3d4e", v.Hash, "hash from player_embed_url when uri and link carry none")
	require.False(t, v.Unlisted())
	require.Equal(t, "The trailer.", v.Description)
	require.Equal(t, 95, v.Duration)
	require.Equal(t, StatusAvailable, v.State())
	require.Equal(t, "https://i.vimeocdn.com/video/1700000001-aaaa-d_1920x1080?r=pad", v.ThumbnailURL(), "largest size wins")
	require.True(t, v.ModifiedTime.Equal(mustTime(t, "2024-05-02T07:15:00Z")), "non-UTC offset kept exact: %s", v.ModifiedTime)
	require.False(t, v.ParentKnown, "videos inside /items carry no parent key")

	// Unknown types are kept as envelopes without payload, so they count.
	require.Equal(t, "live_event", p.Data[2].Type)
	require.Nil(t, p.Data[2].Folder)
	require.Nil(t, p.Data[2].Video)
	require.Equal(t, "/users/1001/live_events/42", p.Data[2].URI)
	require.Equal(t, "showcase", p.Data[3].Type)
	require.Nil(t, p.Data[3].Video)
}

// normalizeFolder makes times comparable with require.Equal.
func normalizeFolder(f Folder) Folder {
	f.CreatedTime, f.ModifiedTime, f.LastUserActionTime = f.CreatedTime.UTC(), f.ModifiedTime.UTC(), f.LastUserActionTime.UTC()
	return f
}

func TestParseNestedFolderListFixture(t *testing.T) {
	var p Page[Folder]
	require.NoError(t, decodeJSON(readFixture(t, "folders_nested.json"), &p))
	require.Len(t, p.Data, 3)
	tests := []struct {
		id, parent, link string
		ancestors        int
		items            int
	}{
		{"5001", "", "https://vimeo.com/user/1001/folder/5001", 0, 1},
		{"5002", "5001", "", 1, 5},
		{"5003", "5002", "", 2, 2},
	}
	for i, tt := range tests {
		f := p.Data[i]
		require.Equal(t, tt.id, f.ID)
		require.True(t, f.ParentKnown, "ancestor_path present means the parent is known, even when empty")
		require.Equal(t, tt.parent, f.ParentID)
		require.Equal(t, tt.link, f.Link)
		require.Len(t, f.Ancestors, tt.ancestors)
		require.Equal(t, tt.items, f.ItemsTotal)
	}
}

func TestParseVideoFixtures(t *testing.T) {
	tests := []struct {
		file        string
		id, hash    string
		unlisted    bool
		state       VideoStatus
		parentKnown bool
		parentID    string
		created     string
		thumb       string
		description string
	}{
		{file: "video_unlisted.json", id: "900000002", hash: "ab12cd34ef", unlisted: true, state: StatusAvailable,
			parentKnown: true, parentID: "5003", created: "2024-05-02T09:12:44Z",
			thumb: "https://i.vimeocdn.com/video/1700000002-bbbb-d_640x360?r=pad"},
		{file: "video_transcoding.json", id: "900000003", hash: "77aa88bb99", state: StatusTranscoding,
			parentKnown: true, parentID: "", created: "2024-06-01T17:00:00Z",
			thumb: "https://i.vimeocdn.com/video/default", description: "Still being processed."},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var v Video
			require.NoError(t, decodeJSON(readFixture(t, tt.file), &v))
			require.Equal(t, tt.id, v.ID)
			require.Equal(t, tt.hash, v.Hash)
			require.Equal(t, tt.unlisted, v.Unlisted())
			require.Equal(t, tt.state, v.State())
			require.Equal(t, tt.parentKnown, v.ParentKnown)
			require.Equal(t, tt.parentID, v.ParentID)
			require.True(t, v.CreatedTime.Equal(mustTime(t, tt.created)), "created %s", v.CreatedTime)
			require.Equal(t, tt.thumb, v.ThumbnailURL())
			require.Equal(t, tt.description, v.Description)
		})
	}
}

func TestVideoState(t *testing.T) {
	tests := []struct {
		status, upload, transcode string
		playable                  bool
		want                      VideoStatus
	}{
		{"available", "complete", "complete", true, StatusAvailable},
		{"available", "", "", true, StatusAvailable}, // upload and transcode null, as recorded
		{"transcoding", "complete", "in_progress", false, StatusTranscoding},
		{"uploading", "in_progress", "", false, StatusTranscoding},
		{"transcode_starting", "", "", false, StatusTranscoding},
		{"transcoding_error", "complete", "error", false, StatusTranscodeError},
		{"available", "complete", "error", false, StatusTranscodeError},
		{"uploading_error", "error", "", false, StatusTranscodeError},
		{"quota_exceeded", "", "", false, StatusUnavailable},
		{"", "", "complete", false, StatusAvailable}, // status not requested
		{"", "", "", false, StatusUnavailable},
	}
	for _, tt := range tests {
		v := Video{Status: tt.status, UploadStatus: tt.upload, TranscodeStatus: tt.transcode, IsPlayable: tt.playable}
		require.Equal(t, tt.want, v.State(), "%+v", tt)
	}
}

func TestParseErrorBodies(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		page    int
		body    []byte
		code    int
		msg     string
		nonJSON bool
		is      []error
		isNot   []error
	}{
		{name: "2286 page past end", status: 400, page: 3, body: readFixture(t, "error_2286.json"), code: 2286,
			msg: "Something strange occurred. Please try again.", is: []error{ErrPagePastEnd}, isNot: []error{ErrNotFound}},
		{name: "429 with string code", status: 429, body: readFixture(t, "error_429.json"), code: 9000,
			msg: "Too many API requests. Please wait a minute and try again.", is: []error{ErrRateLimited}},
		{name: "minimal 404", status: 404, page: 1, body: readFixture(t, "error_minimal.json"),
			msg: "The requested folder couldn't be found.", is: []error{ErrNotFound}, isNot: []error{ErrPagePastEnd}},
		{name: "404 past page 1", status: 404, page: 2, body: readFixture(t, "error_minimal.json"),
			msg: "The requested folder couldn't be found.", is: []error{ErrNotFound, ErrPagePastEnd}},
		{name: "invalid parameter", status: 400, body: readFixture(t, "error_invalid_param.json"), code: 2204,
			msg: "You have provided an invalid parameter. Please contact developer of this application.", isNot: []error{ErrPagePastEnd}},
		{name: "HTML 503", status: 503, body: readFixture(t, "error_503.html"), nonJSON: true,
			msg: "503 Service Unavailable Error 503 Service Unavailable Service Unavailable Guru Mediation: Details: cache-fra-etou8220021-FRA 1712345678 123456789 Varnish cache server",
			is:  []error{ErrServer, ErrBadResponse}},
		{name: "empty 502", status: 502, body: nil, is: []error{ErrServer}, isNot: []error{ErrBadResponse}},
		{name: "403", status: 403, body: []byte(`{"error":"no","error_code":3200}`), code: 3200, msg: "no", is: []error{ErrForbidden}},
		{name: "401", status: 401, body: []byte(`{"error":"You must provide a valid authenticated access token.","error_code":8003}`),
			code: 8003, msg: "You must provide a valid authenticated access token.", is: []error{ErrUnauthorized}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &APIError{StatusCode: tt.status, Page: tt.page, Method: "GET", Path: "/x"}
			e.parseBody(tt.body)
			require.Equal(t, tt.code, e.ErrorCode)
			require.Equal(t, tt.msg, e.Message)
			require.Equal(t, tt.nonJSON, e.NonJSON)
			for _, target := range tt.is {
				require.True(t, errors.Is(e, target), "want Is(%v)", target)
			}
			for _, target := range tt.isNot {
				require.False(t, errors.Is(e, target), "want !Is(%v)", target)
			}
		})
	}
	e := &APIError{StatusCode: 400}
	e.parseBody(readFixture(t, "error_invalid_param.json"))
	require.Equal(t, []InvalidParameter{{Field: "per_page", ErrorCode: 2204, Message: "Invalid value.",
		DeveloperMessage: `The parameter "per_page" must be 100 or less.`}}, e.InvalidParameters)
}

func TestParseTimeForms(t *testing.T) {
	want := mustTime(t, "2023-06-04T16:28:48Z")
	for _, s := range []string{"2023-06-04T20:28:48+04:00", "2023-06-04T16:28:48+00:00", "2023-06-04T16:28:48Z",
		"2023-06-04T20:28:48+0400", "1685896128", "1685896128000"} {
		got, ok := parseTime(s)
		require.True(t, ok, s)
		require.True(t, got.Equal(want), "%s → %s", s, got)
	}
	_, ok := parseTime("yesterday")
	require.False(t, ok)
	var ft struct {
		T flexTime `json:"t"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"t":"garbage"}`), &ft), "an odd timestamp never fails a page")
	require.True(t, ft.T.IsZero())
	require.NoError(t, json.Unmarshal([]byte(`{"t":null}`), &ft))
	require.True(t, ft.T.IsZero())
}

func TestParseIdentifiers(t *testing.T) {
	for _, tt := range []struct{ in, id, hash string }{
		{"/videos/1058205490:6f1a3055de", "1058205490", "6f1a3055de"},
		{"/videos/208799259", "208799259", ""},
		{"/videos/208799259/pictures/1", "208799259", ""},
		{"/users/1/projects/2", "", ""},
	} {
		id, hash := parseVideoURI(tt.in)
		require.Equal(t, tt.id, id, tt.in)
		require.Equal(t, tt.hash, hash, tt.in)
	}
	for _, tt := range []struct{ in, owner, id string }{
		{"/users/2433258/projects/15721584", "2433258", "15721584"},
		{"/me/projects/15721584/items", "", "15721584"},
		{"/user/2433258/projects", "", ""},
		{"/users/2433258/folders/root", "", ""},
	} {
		owner, id := parseFolderURI(tt.in)
		require.Equal(t, tt.owner, owner, tt.in)
		require.Equal(t, tt.id, id, tt.in)
	}
	require.Equal(t, "6f1a3055de", hashFromLink("https://vimeo.com/1058205490/6f1a3055de", "1058205490"))
	require.Equal(t, "", hashFromLink("https://vimeo.com/1058205490", "1058205490"))
	require.Equal(t, "", hashFromLink("https://vimeo.com/channels/staffpicks/1", "1"))
	require.Equal(t, "5003", FolderID("/users/1/projects/5003"))
	require.Equal(t, "5003", FolderID("5003"))
	require.Equal(t, "", FolderID("abc"))
	require.Equal(t, "12", VideoID("/videos/12:ab"))
	require.Equal(t, "12", VideoID("12:ab"))
	require.Equal(t, "", VideoID("x"))
}

func TestParseRateLimitHeaders(t *testing.T) {
	iso, ok := parseReset("2017-09-14T09:47:00+00:00")
	require.True(t, ok)
	require.Equal(t, mustTime(t, "2017-09-14T09:47:00Z"), iso.UTC())
	epoch, ok := parseReset("1369058397")
	require.True(t, ok)
	require.Equal(t, int64(1369058397), epoch.Unix())
	_, ok = parseReset("")
	require.False(t, ok)

	now := mustTime(t, "2024-01-01T00:00:00Z")
	d, ok := parseRetryAfter("7", now)
	require.True(t, ok)
	require.Equal(t, 7*time.Second, d)
	d, ok = parseRetryAfter(now.Add(30*time.Second).Format(http.TimeFormat), now)
	require.True(t, ok)
	require.Equal(t, 30*time.Second, d)
	_, ok = parseRetryAfter("soon", now)
	require.False(t, ok)
}

// recordingsDir holds responses recorded from the real Vimeo API (v3.4) by
// the vimeo-dot-net project, kept unchanged with their licence.
const recordingsDir = "testdata/recordings"

// TestParseRealRecordings parses the responses recorded from the real API.
func TestParseRealRecordings(t *testing.T) {
	dir := recordingsDir
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}

	t.Run("items mixing folders and a video", func(t *testing.T) {
		var p Page[Item]
		require.NoError(t, decodeJSON(read("folder-folder-15721523-items.json"), &p))
		require.Equal(t, 8, p.Total)
		require.Len(t, p.Data, 8)
		folders, videos := 0, 0
		names := map[string]int{}
		for _, it := range p.Data {
			switch {
			case it.Folder != nil:
				folders++
				names[it.Folder.Name]++
				require.Equal(t, "2433258", it.Folder.OwnerID)
				require.Equal(t, "15721523", it.Folder.ParentID)
				require.NotEmpty(t, it.Folder.ID)
				require.False(t, it.Folder.CreatedTime.IsZero())
			case it.Video != nil:
				videos++
				require.Equal(t, "530969457", it.Video.ID)
				require.Equal(t, "2961ed5f56", it.Video.Hash)
				require.False(t, it.Video.ParentKnown)
				require.Equal(t, StatusTranscoding, it.Video.State())
				require.Equal(t, 1920, maxWidth(it.Video.Pictures))
			}
		}
		require.Equal(t, 7, folders)
		require.Equal(t, 1, videos)
		require.Equal(t, 2, names["3"], "sibling folders share the name \"3\"")
	})

	t.Run("items with one video", func(t *testing.T) {
		var p Page[Item]
		require.NoError(t, decodeJSON(read("folder-folder-15721574-items.json"), &p))
		require.Len(t, p.Data, 1)
		require.NotNil(t, p.Data[0].Video)
		require.Equal(t, "/me/projects/15721574/items?page=1", p.Paging.First)
	})

	t.Run("flat folder list", func(t *testing.T) {
		var p Page[Folder]
		require.NoError(t, decodeJSON(read("folder-user-folder-list.json"), &p))
		require.Equal(t, 12, p.Total)
		require.Len(t, p.Data, 12)
		nested := 0
		for _, f := range p.Data {
			require.True(t, f.ParentKnown, f.Name)
			if f.ParentID != "" {
				nested++
				require.Equal(t, f.Ancestors[0].ID, f.ParentID)
			}
		}
		require.Positive(t, nested)
	})

	t.Run("created folder", func(t *testing.T) {
		var f Folder
		require.NoError(t, decodeJSON(read("folder-post-folder.json"), &f))
		require.Equal(t, "15721704", f.ID)
		require.Equal(t, "Test folder", f.Name)
		require.True(t, f.ParentKnown)
		require.Empty(t, f.ParentID)
		require.Equal(t, 0, f.ItemsTotal)
	})

	t.Run("unlisted video", func(t *testing.T) {
		var v Video
		require.NoError(t, decodeJSON(read("video-video-1058205490.json"), &v))
		require.Equal(t, "1058205490", v.ID)
		require.Equal(t, "6f1a3055de", v.Hash)
		require.True(t, v.Unlisted())
		require.Equal(t, StatusAvailable, v.State())
		require.Equal(t, 11, v.Duration)
	})

	t.Run("video with +04:00 offsets", func(t *testing.T) {
		var v Video
		require.NoError(t, decodeJSON(read("video-video-833078000.json"), &v))
		require.Equal(t, "833078000", v.ID)
		require.True(t, v.CreatedTime.Equal(mustTime(t, "2023-06-04T16:28:48Z")))
		require.True(t, v.ParentKnown, "parent_folder: null is known: the library root")
		require.Empty(t, v.ParentID)
	})

	t.Run("public video", func(t *testing.T) {
		var v Video
		require.NoError(t, decodeJSON(read("video-video-208799259.json"), &v))
		require.Equal(t, "208799259", v.ID)
		require.False(t, v.Unlisted())
		require.Equal(t, "23f9d62b89", v.Hash, "h= is present on public videos too")
		require.NotEmpty(t, v.Description)
		require.Equal(t, "anybody", v.PrivacyView)
		require.Equal(t, "public", v.PrivacyEmbed, "the embed privacy the mirror keeps (an app can embed it)")
		require.Equal(t, []string{"Shoppable film", "360°", "SS17", "fashion"}, v.Tags, "tags[].name, in order")
		require.NotEmpty(t, v.Pictures)
		for _, p := range v.Pictures {
			require.Positive(t, p.Width)
			require.Positive(t, p.Height)
			require.Contains(t, p.Link, "i.vimeocdn.com")
		}
	})

	t.Run("user videos page and a fields-filtered video", func(t *testing.T) {
		var p Page[Video]
		require.NoError(t, decodeJSON(read("video-user-videos.json"), &p))
		require.Len(t, p.Data, 1)
		require.Equal(t, StatusTranscoding, p.Data[0].State())
		var v Video
		require.NoError(t, decodeJSON(read("video-videos-with-fields.json"), &v))
		require.Equal(t, Video{URI: "/videos/530969457", ID: "530969457", Name: "Untitled"}, v)
	})

	t.Run("user", func(t *testing.T) {
		var u User
		require.NoError(t, decodeJSON(read("user-user.json"), &u))
		require.Equal(t, "2433258", u.ID)
		require.Equal(t, "/users/2433258/folders/root", u.FoldersRootURI)
		require.Equal(t, "/users/2433258/folders", u.FoldersURI)
		require.Equal(t, "/users/2433258/videos", u.VideosURI)
	})

	t.Run("page past the end", func(t *testing.T) {
		e := &APIError{StatusCode: http.StatusBadRequest, Page: 2}
		e.parseBody(read("video-page-not-exists.json"))
		require.Equal(t, CodePagePastEnd, e.ErrorCode)
		require.True(t, errors.Is(e, ErrPagePastEnd))
		require.False(t, e.NonJSON, "the recording starts with a byte-order mark")
	})
}

func maxWidth(ps []Picture) int {
	m := 0
	for _, p := range ps {
		m = max(m, p.Width)
	}
	return m
}
