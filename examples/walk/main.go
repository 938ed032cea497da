// Command walk lists a Vimeo folder tree with vimeo.Client.Walk, the way
// vidlib's reconciliation does, and prints it indented.
//
//	VIMEO_TOKEN=... VIMEO_FOLDER=15721523 go run ./examples/walk
//
// VIMEO_BASE_URL points it at another API (the fake in main_test.go).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/vidlib/vidlib/vimeo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "walk:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, out io.Writer) error {
	token, folder := getenv("VIMEO_TOKEN"), getenv("VIMEO_FOLDER")
	if token == "" || folder == "" {
		return errors.New("set VIMEO_TOKEN and VIMEO_FOLDER (and optionally VIMEO_BASE_URL)")
	}
	client, err := vimeo.New(token, &vimeo.Options{BaseURL: getenv("VIMEO_BASE_URL")})
	if err != nil {
		return err
	}
	res, err := client.Walk(ctx, folder, nil)
	if err != nil {
		return err
	}
	videos := map[string][]vimeo.WalkVideo{}
	for _, v := range res.Videos {
		videos[v.FolderID] = append(videos[v.FolderID], v)
	}
	for _, f := range res.Folders {
		d := f.Depth
		fmt.Fprintf(out, "%s%s/ (folder %s)\n", strings.Repeat("  ", d), f.Name, f.ID)
		for _, v := range videos[f.ID] {
			fmt.Fprintf(out, "%s- %s (video %s)\n", strings.Repeat("  ", d+1), v.Name, v.ID)
		}
	}
	fmt.Fprintf(out, "%d folders, %d videos, %d API calls; complete=%t consistent=%t\n",
		len(res.Folders), len(res.Videos), res.Calls, res.Complete, res.Consistent)
	return nil
}
