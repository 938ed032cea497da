// Command devkafka runs a Kafka-protocol broker for local full-stack runs:
// kfake (github.com/twmb/franz-go/pkg/kfake), an in-memory fake broker that
// kafka-go talks to (no replication, no transactions). scripts/dev-up.sh
// builds and starts it. Never use it in production.
//
//	go run ./internal/devkafka -ports 59092 -data-dir .dev/kafka
//
// It prints "KAFKA_BROKERS=host:port,..." once it listens, then runs until
// SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	ports := flag.String("ports", "", "comma-separated ports, one broker per port (empty: one broker on a random port)")
	parts := flag.Int("default-partitions", 6, "partitions of auto-created topics")
	seed := flag.String("seed-topics", "", "comma-separated topics to create at start")
	dataDir := flag.String("data-dir", "", "persist topics, records and offsets here (survives restarts)")
	flag.Parse()

	opts := []kfake.Opt{
		kfake.DefaultNumPartitions(*parts),
		kfake.AllowAutoTopicCreation(),
		// kafka-go readers in tests and demos use short session timeouts.
		kfake.GroupMinSessionTimeout(time.Second),
	}
	if *ports != "" {
		var ps []int
		for _, p := range strings.Split(*ports, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n <= 0 || n > 65535 {
				fmt.Fprintf(os.Stderr, "devkafka: bad port %q\n", p)
				os.Exit(2)
			}
			ps = append(ps, n)
		}
		opts = append(opts, kfake.NumBrokers(len(ps)), kfake.Ports(ps...))
	} else {
		opts = append(opts, kfake.NumBrokers(1))
	}
	if *seed != "" {
		opts = append(opts, kfake.SeedTopics(int32(*parts), strings.Split(*seed, ",")...))
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devkafka:", err)
		os.Exit(1)
	}
	fmt.Printf("KAFKA_BROKERS=%s\n", strings.Join(c.ListenAddrs(), ","))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	c.Close()
}
