package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/compose"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// adminPerson signs in to the admin API: the "admins" group maps to the
// admin role.
var adminPerson = person{"admin", authtest.User{Email: "admin@demo.vidlib.dev", Name: "Ada Admin", Groups: []string{"admins"}}}

// adminState gives every admin view something to show: a few dead
// letters (two open, one ignored with a note), and, on the fake account,
// drift made in Vimeo after the first reconciliation (a renamed folder, a
// video back to transcoding, and enough deleted videos that the next
// reconciliation is held for an admin's decision), then that held
// reconciliation.
func adminState(ctx context.Context, b compose.Backend, m syncworker.Mirror, acct *vimeotest.Account, rootID int64) (held *tree.Report, err error) {
	now := time.Now().UTC()
	var vids []int64
	if acct != nil {
		for _, v := range acct.Videos() {
			vids = append(vids, v.ID)
		}
		slices.Sort(vids)
	}
	vid := func(i int) string {
		if len(vids) == 0 {
			return "1"
		}
		return strconv.FormatInt(vids[i%len(vids)], 10)
	}
	letters := []struct {
		topic, typ, subject, errMsg string
		data                        any
	}{
		{events.TopicVimeoSyncNormalized, syncworker.EventVideoRefetch, "video:" + vid(1),
			"vimeo: GET /videos/" + vid(1) + ": 503 Service Unavailable (after 5 attempts)",
			syncworker.Refetch{VideoID: vid(1), Reason: "video.updated"}},
		{events.TopicVimeoSyncNormalized, syncworker.EventVideoRefetch, "video:" + vid(2),
			"tree: apply video " + vid(2) + ": context deadline exceeded",
			syncworker.Refetch{VideoID: vid(2), Reason: "video.transcode_complete"}},
		{events.TopicAnalytics, "analytics.heartbeat", "video:" + vid(3),
			"analytics: invalid event: position_seconds: must not be negative",
			map[string]any{"video_id": vid(3), "position_seconds": -4}},
	}
	var ids []int64
	for i, l := range letters {
		ev, err := events.New(ctx, events.Event{Type: l.typ, Source: "vidlib/demo", Subject: l.subject, Key: l.subject}, l.data)
		if err != nil {
			return nil, err
		}
		payload, err := ev.Marshal()
		if err != nil {
			return nil, err
		}
		d, err := b.RecordDeadLetter(ctx, events.DeadLetter{EventID: ev.ID, Topic: l.topic, Key: l.subject, Payload: payload,
			Error: l.errMsg, Attempts: 5, FirstFailedAt: now.Add(-time.Duration(30-i*10) * time.Minute), LastFailedAt: now.Add(-time.Duration(20-i*10) * time.Minute)})
		if err != nil {
			return nil, fmt.Errorf("demo dead letters: %w", err)
		}
		ids = append(ids, d.ID)
	}
	if _, err := b.MarkDeadLetterIgnored(ctx, ids[2], "client bug, fixed in app 2.4.1"); err != nil {
		return nil, fmt.Errorf("demo dead letters: %w", err)
	}
	if acct == nil || m == nil || len(vids) < 10 {
		return nil, nil
	}
	// Drift in Vimeo.
	for _, f := range acct.Folders() {
		if f.ParentID != 0 && f.ParentID != rootID {
			if err := acct.RenameFolder(f.ID, f.Name+" (renamed in Vimeo)"); err != nil {
				return nil, err
			}
			break
		}
	}
	if err := acct.SetTranscode(vids[0], "in_progress"); err != nil {
		return nil, err
	}
	for i := 5; i < len(vids); i += 6 { // about 17% of the videos: over the 10% a run may delete
		if err := acct.DeleteVideo(vids[i]); err != nil {
			return nil, err
		}
	}
	rep, err := m.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerSchedule})
	if err != nil {
		return nil, fmt.Errorf("demo reconciliation: %w", err)
	}
	return rep, nil
}

// checkAdmin checks that the admin API answers the admin and that its
// overview shows the demo's dead letters and held reconciliation.
func checkAdmin(ctx context.Context, base, token string, wantHeld bool) error {
	code, body, err := get(ctx, base+"/admin/overview", token)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("GET /admin/overview as the admin: status %d: %s", code, body)
	}
	var o struct {
		OpenDeadLetters int `json:"open_dead_letters"`
		HeldRuns        int `json:"held_runs"`
	}
	if err := json.Unmarshal(body, &o); err != nil {
		return fmt.Errorf("GET /admin/overview: %w", err)
	}
	if o.OpenDeadLetters < 2 || (wantHeld && o.HeldRuns < 1) {
		return fmt.Errorf("GET /admin/overview: want open dead letters and a held run, got %s", body)
	}
	return nil
}
