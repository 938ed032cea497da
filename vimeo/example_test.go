package vimeo_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// ExampleClient_Walk walks a generated account served by the fake Vimeo API.
// The virtual clock makes every rate-limit wait and backoff instant.
func ExampleClient_Walk() {
	clock := vimeotest.NewVirtualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 3, Folders: 7, Videos: 12, MaxDepth: 3,
		UnicodeRate: -1, DuplicateNameRate: -1, Clock: clock})
	if err != nil {
		panic(err)
	}
	fake := httptest.NewServer(vimeotest.NewServer(acct, &vimeotest.Options{RateLimit: 100}))
	defer fake.Close()

	client, err := vimeo.New(vimeotest.DefaultToken, &vimeo.Options{BaseURL: fake.URL, Clock: clock})
	if err != nil {
		panic(err)
	}
	res, err := client.Walk(context.Background(), fmt.Sprintf("/users/%d/projects/%d", acct.UserID(), root), nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("complete=%v consistent=%v folders=%d videos=%d\n", res.Complete, res.Consistent, len(res.Folders), len(res.Videos))
	perFolder := map[string]int{}
	for _, v := range res.Videos {
		perFolder[v.FolderID]++
	}
	children := map[string][]vimeo.WalkFolder{}
	for _, f := range res.Folders[1:] {
		children[f.ParentID] = append(children[f.ParentID], f)
	}
	var print func(f vimeo.WalkFolder)
	print = func(f vimeo.WalkFolder) {
		fmt.Printf("%s%s (%d videos)\n", strings.Repeat("  ", f.Depth), f.Name, perFolder[f.ID])
		for _, c := range children[f.ID] {
			print(c)
		}
	}
	print(res.Folders[0])
	// Output:
	// complete=true consistent=true folders=7 videos=12
	// Library (2 videos)
	//   Level 2 (1 videos)
	//     Level 3 (2 videos)
	//   Folder 3 (0 videos)
	//     Trailers (3 videos)
	//   Folder 5 (1 videos)
	//     Folder 6 (3 videos)
}
