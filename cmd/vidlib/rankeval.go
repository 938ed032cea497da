package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/vidlib/vidlib/rank/rankeval"
)

func rankEvalCommand() command {
	return command{"rank-eval", "evaluate the ranking offline on synthetic data with planted preferences (NDCG@10, recall@20, coverage)", runRankEval}
}

func runRankEval(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rank-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o rankeval.Options
	fs.IntVar(&o.Users, "users", 1000, "users")
	fs.IntVar(&o.Videos, "videos", 3000, "videos")
	fs.IntVar(&o.Topics, "topics", 20, "topic folders (3 subfolders each)")
	fs.IntVar(&o.WatchesPerUser, "watches", 40, "watches per user over the log")
	fs.Float64Var(&o.Affinity, "affinity", 0.7, "share of a user's watches in their planted topics")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	perFolder := fs.Int("max-per-folder", 0, "diversity bound in the top 10 (0: rank's default)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	d, err := rankeval.Generate(&o)
	if err != nil {
		return err
	}
	rs, err := rankeval.Evaluate(d, rankeval.Scorers(), *perFolder)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d users, %d videos, time split at %s\n", o.Users, o.Videos, d.Split.Format("2006-01-02"))
	return rankeval.Print(stdout, rs)
}
