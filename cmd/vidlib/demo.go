package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"go.uber.org/zap/zapcore"

	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/demo"
)

// runDemo parses the demo's settings and runs servers/demo.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	l := config.Register(fs, config.ForDemo...)
	pgURL := fs.String("postgres-url", "", "use this PostgreSQL instead of memory (env VIDLIB_POSTGRES_URL)")
	redisURL := fs.String("redis-url", "", "use this Redis for caches and version pub/sub (env VIDLIB_REDIS_URL)")
	brokers := fs.String("kafka-brokers", "", "use these Kafka brokers instead of the in-process bus (env VIDLIB_KAFKA_BROKERS)")
	root := fs.String("vimeo-root-folder-id", "", "with VIDLIB_VIMEO_TOKEN: mirror this folder of a real Vimeo account instead of the fake")
	exitReady := fs.Bool("exit-when-ready", false, "check the printed curl lines, print the summary and exit (for scripts and tests)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: vidlib demo [flags]\n\nRun vidlib on embedded defaults: a generated fake Vimeo account, a local sign-in issuer\nwith demo users, memory storage and an in-process event bus. Flags (also VIDLIB_<NAME>):\n")
		fs.PrintDefaults()
	}
	for _, f := range []struct {
		p   *string
		env string
	}{{pgURL, "VIDLIB_POSTGRES_URL"}, {redisURL, "VIDLIB_REDIS_URL"}, {brokers, "VIDLIB_KAFKA_BROKERS"}, {root, "VIDLIB_VIMEO_ROOT_FOLDER_ID"}} {
		*f.p = os.Getenv(f.env)
	}
	cfg, err := parseConfig(fs, l, args)
	if err != nil {
		return err
	}
	cfg.Postgres.URL, cfg.Redis.URL = *pgURL, *redisURL
	if *brokers != "" {
		cfg.Kafka.Brokers = strings.Split(*brokers, ",")
	}
	if os.Getenv("VIDLIB_LOG_LEVEL") == "" && !flagSet(fs, "log-level") {
		cfg.Log.Level = zapcore.WarnLevel // the demo talks through stdout
	}
	token := os.Getenv("VIDLIB_VIMEO_TOKEN")
	if (token == "") != (*root == "") {
		return fmt.Errorf("%w: a real account needs both VIDLIB_VIMEO_TOKEN and --vimeo-root-folder-id", errUsage)
	}
	if token != "" {
		cfg.Vimeo.Token, cfg.Vimeo.RootFolderID = config.NewSecret(token), *root
	}
	return demo.Run(ctx, cfg, &demo.Options{Out: stdout, Version: versionString(), ExitWhenReady: *exitReady})
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
