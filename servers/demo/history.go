package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/internal/clock"
)

// watchHistory gives a demo user some viewing history the way a player
// would: for up to n of the videos on their home page it opens playback
// (which mints a session), then posts started, heartbeats and a pause at a
// different share of each video, through POST /analytics/events. It waits
// until the consumer has applied them (continue watching is not empty) and
// returns how many events were accepted.
func watchHistory(ctx context.Context, apiBase, token string, n int) (int, error) {
	code, body, err := get(ctx, apiBase+"/library/home", token)
	if err != nil || code != http.StatusOK {
		return 0, fmt.Errorf("GET /library/home: %d %v", code, err)
	}
	var home struct {
		Rows []struct {
			Videos []struct {
				ID       string `json:"id"`
				Duration int    `json:"duration_seconds"`
			} `json:"videos"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(body, &home); err != nil {
		return 0, err
	}
	accepted := 0
	now := time.Now().UTC()
	i := 0
	for _, row := range home.Rows {
		for _, v := range row.Videos {
			if i == n || v.Duration < 30 {
				continue
			}
			code, body, err := get(ctx, apiBase+"/videos/"+v.ID+"/playback", token)
			if err != nil || code != http.StatusOK {
				return accepted, fmt.Errorf("GET /videos/%s/playback: %d %v", v.ID, code, err)
			}
			var pb struct {
				Session struct {
					ID    string `json:"id"`
					Token string `json:"token"`
				} `json:"session"`
			}
			if err := json.Unmarshal(body, &pb); err != nil || pb.Session.Token == "" {
				return accepted, fmt.Errorf("playback of %s has no analytics session (is analytics on?)", v.ID)
			}
			// Watch 20 %, 35 %, 50 %… of the video, ending minutes ago.
			share := 0.2 + 0.15*float64(i%5)
			stop := share * float64(v.Duration)
			beats := min(int(stop/5), 60)
			start := now.Add(-time.Duration(10*(i+1))*time.Minute - time.Duration(beats*5)*time.Second)
			pos0 := stop - float64(beats*5)
			ev := func(typ analytics.Type, k int) map[string]any {
				return map[string]any{"event_id": uuid.NewString(), "type": typ, "session_id": pb.Session.ID,
					"session_token": pb.Session.Token, "video_id": v.ID, "position_seconds": pos0 + float64(5*k),
					"occurred_at": start.Add(time.Duration(5*k) * time.Second), "properties": map[string]string{"device": "demo"}}
			}
			evs := []map[string]any{ev(analytics.TypeVideoOpened, 0), ev(analytics.TypePlaybackStarted, 0)}
			for k := 1; k <= beats; k++ {
				evs = append(evs, ev(analytics.TypeHeartbeat, k))
			}
			evs = append(evs, ev(analytics.TypePaused, beats))
			got, err := postEvents(ctx, apiBase+"/analytics/events", token, map[string]any{"events": evs})
			if err != nil {
				return accepted, err
			}
			accepted += got
			i++
		}
	}
	if i == 0 {
		return 0, nil // nothing this user may watch
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		_, body, err := get(ctx, apiBase+"/me/continue-watching", token)
		if err == nil && bytes.Contains(body, []byte(`"id"`)) {
			return accepted, nil
		}
		if err := clock.Sleep(ctx, 100*time.Millisecond); err != nil {
			return accepted, err
		}
	}
	return accepted, fmt.Errorf("the analytics consumer did not apply the demo history in 15 s")
}

func postEvents(ctx context.Context, url, token string, v any) (int, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return 0, fmt.Errorf("POST /analytics/events: %d %s", resp.StatusCode, body)
	}
	var r struct {
		Accepted int `json:"accepted"`
	}
	return r.Accepted, json.Unmarshal(body, &r)
}
