package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vidlib/vidlib/internal/clock"
)

// feeds waits until the ranking pipeline has stored a feed for each
// demo user (it ranks users as their viewing events arrive) and prints the
// top of each feed with its reasons, as GET /feed serves it.
func feeds(ctx context.Context, w io.Writer, apiBase string, labels, tokens []string) error {
	fmt.Fprintln(w, "\nranked feeds (GET /feed: the first unfinished video, then the next three, with reasons):")
	for i, token := range tokens {
		code, body, err := get(ctx, apiBase+"/library/home", token)
		if err != nil {
			return err
		}
		if n, _ := homeFolders(body); code == http.StatusOK && n == 0 {
			fmt.Fprintf(w, "  %-20s (nothing to rank: the library is empty for this user)\n", labels[i])
			continue
		}
		var page struct {
			Videos []struct {
				ID     string `json:"id"`
				Title  string `json:"title"`
				Reason string `json:"reason"`
				Kind   string `json:"reason_kind"`
			} `json:"videos"`
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, body, err := get(ctx, apiBase+"/feed?limit=12", token)
			if err != nil {
				return err
			}
			if code != http.StatusOK {
				return fmt.Errorf("GET /feed as %s: status %d: %s", labels[i], code, body)
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			if len(page.Videos) > 0 || time.Now().After(deadline) {
				break
			}
			if err := clock.Sleep(ctx, 200*time.Millisecond); err != nil {
				return err
			}
		}
		if len(page.Videos) == 0 {
			fmt.Fprintf(w, "  %-20s (no feed yet: the pipeline ranks users as their events arrive)\n", labels[i])
			continue
		}
		shown, continuing := 0, 0
		for j, v := range page.Videos {
			if v.Kind == "continue_watching" {
				if continuing++; continuing > 1 {
					continue
				}
			}
			label := ""
			if shown == 0 {
				label = labels[i]
			}
			fmt.Fprintf(w, "  %-20s %2d. %-28.28s %s\n", label, j+1, v.Title, v.Reason)
			if shown++; shown == 4 {
				break
			}
		}
	}
	return nil
}
