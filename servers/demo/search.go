package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// searchQueries are what the demo types into GET /search: an accent
// the titles spell differently, a typo in a word being typed, a tag in a
// spaceless script.
var searchQueries = []string{"épisode", "walktrou", "研修"}

// tags are the Vimeo tags every seventh video of the fake account was
// uploaded with, so that search has tags to find. They are given at
// generation, long before the demo starts: tagging 400 videos while it runs
// would look to the demo's reconciliation like a mass edit during its walk.
var tags = []string{"新人研修", "onboarding"}

// search prints, for each query, how many results each demo user gets
// (each sees only their own library) and the best three of the last user's
// with their highlighted snippets.
func search(ctx context.Context, w io.Writer, apiBase string, labels, tokens []string) error {
	fmt.Fprintln(w, "\nsearch (GET /search?q=…: accents folded, prefixes as you type, one typo, substrings in CJK; only what each user may see):")
	for _, q := range searchQueries {
		for i, token := range tokens {
			code, body, err := get(ctx, apiBase+"/search?limit=3&q="+url.QueryEscape(q), token)
			if err != nil {
				return err
			}
			if code != http.StatusOK {
				return fmt.Errorf("GET /search?q=%s as %s: status %d: %s", q, labels[i], code, body)
			}
			var page struct {
				Counts struct {
					Videos  int `json:"videos"`
					Folders int `json:"folders"`
				} `json:"counts"`
				Results []struct {
					Type       string `json:"type"`
					Highlights []struct {
						Field   string `json:"field"`
						Snippet string `json:"snippet"`
					} `json:"highlights"`
				} `json:"results"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			fmt.Fprintf(w, "  %-12q %-20s %4d videos %3d folders\n", q, labels[i], page.Counts.Videos, page.Counts.Folders)
			if i != len(tokens)-1 {
				continue
			}
			for _, h := range page.Results {
				if len(h.Highlights) > 0 {
					fmt.Fprintf(w, "  %-12s %-20s %-6s %s: %s\n", "", "", h.Type, h.Highlights[0].Field, h.Highlights[0].Snippet)
				}
			}
		}
	}
	fmt.Fprintf(w, "try it:                    curl -s -H \"Authorization: Bearer $TOKEN_3\" '%s/search?q=%s'\n", apiBase, url.QueryEscape(searchQueries[0]))
	return nil
}
