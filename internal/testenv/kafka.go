package testenv

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// KafkaOption configures the in-process cluster Kafka creates. Options are ignored when
// VIDLIB_TEST_KAFKA_BROKERS points at external brokers.
type KafkaOption func(*kafkaConfig)

type kafkaConfig struct {
	partitions int
	extra      []kfake.Opt
}

// WithPartitions sets the number of partitions of auto-created topics (default 3).
func WithPartitions(n int) KafkaOption {
	return func(c *kafkaConfig) { c.partitions = n }
}

// WithKfakeOptions passes extra options to kfake.NewCluster (after testenv's own, so they
// win), e.g. kfake.SeedTopics or kfake.NumBrokers.
func WithKfakeOptions(opts ...kfake.Opt) KafkaOption {
	return func(c *kafkaConfig) { c.extra = append(c.extra, opts...) }
}

// KafkaCluster is the Kafka-protocol broker of one test, returned by Kafka. (The API
// sketch called this type Kafka; Go does not allow a type and a function of the same name
// in one package, so the function kept the name.) Its methods are safe for concurrent use.
type KafkaCluster struct {
	prefix   string
	external bool

	mu      sync.Mutex
	cluster *kfake.Cluster
	opts    []kfake.Opt // the options the cluster was created with (DataDir included)
	brokers []string
}

// Kafka returns a Kafka-protocol broker for this test. With VIDLIB_TEST_KAFKA_BROKERS set
// it uses those brokers (which must answer; Restart is then impossible). Otherwise it
// creates an in-process kfake cluster for this test alone — 1 broker on a random
// 127.0.0.1 port, auto topic creation on, 3 partitions per auto-created topic
// (WithPartitions), group session timeouts down to 100 ms allowed, state persisted in a
// temp dir so Restart keeps it — and closes it at cleanup.
func Kafka(t testing.TB, opts ...KafkaOption) *KafkaCluster {
	t.Helper()
	k := &KafkaCluster{prefix: "t" + randHex(6) + "."}
	if env := os.Getenv(EnvKafkaBrokers); env != "" {
		var brokers []string
		for _, b := range strings.Split(env, ",") {
			if b = strings.TrimSpace(b); b != "" {
				brokers = append(brokers, b)
			}
		}
		if err := checkBrokers(brokers); err != nil {
			t.Fatalf("testenv: %s=%q is set but: %v", EnvKafkaBrokers, env, err)
			return nil
		}
		k.external = true
		k.brokers = brokers
		return k
	}

	cfg := kafkaConfig{partitions: 3}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.partitions < 1 {
		t.Fatalf("testenv: WithPartitions(%d): need at least 1", cfg.partitions)
		return nil
	}
	k.opts = append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.partitions),
		kfake.GroupMinSessionTimeout(100 * time.Millisecond),
		kfake.DataDir(t.TempDir()), // registered before our Close, so removed after it
	}, cfg.extra...)
	c, err := kfake.NewCluster(k.opts...)
	if err != nil {
		t.Fatalf("testenv: start kfake cluster: %v", err)
		return nil
	}
	k.cluster = c
	k.brokers = c.ListenAddrs()
	t.Cleanup(k.close)
	return k
}

// checkBrokers dials every broker once.
func checkBrokers(brokers []string) error {
	if len(brokers) == 0 {
		return fmt.Errorf("no brokers")
	}
	for _, b := range brokers {
		c, err := net.DialTimeout("tcp", b, 5*time.Second)
		if err != nil {
			return fmt.Errorf("broker %s does not answer: %w", b, err)
		}
		_ = c.Close()
	}
	return nil
}

// Brokers returns the seed broker addresses (host:port). They stay the same across
// Restart.
func (k *KafkaCluster) Brokers() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.brokers...)
}

// TopicPrefix returns a prefix unique to this test, like "t0a1b2c3d4e5f.". Put every topic
// (and consumer group) the test uses under it.
func (k *KafkaCluster) TopicPrefix() string { return k.prefix }

// Topic returns TopicPrefix() + name.
func (k *KafkaCluster) Topic(name string) string { return k.prefix + name }

// External reports whether the brokers come from VIDLIB_TEST_KAFKA_BROKERS.
func (k *KafkaCluster) External() bool { return k.external }

// Cluster returns the current kfake cluster, for fault injection (Control, MoveTopic...),
// or nil with external brokers. Restart replaces it, so call it again after a Restart.
func (k *KafkaCluster) Cluster() *kfake.Cluster {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cluster
}

// Restart stops the broker and starts it again on the same ports with the same data
// (topics, records, committed offsets), so a test can check that nothing is lost across a
// broker restart. Clients see their connections drop and must reconnect. With external
// brokers the test is skipped (failed under CI=true).
func (k *KafkaCluster) Restart(t testing.TB) {
	t.Helper()
	if k.external {
		unavailable(t, "KafkaCluster.Restart is not possible with external brokers ("+EnvKafkaBrokers+" is set)")
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	ports := make([]int, 0, len(k.brokers))
	for _, b := range k.brokers {
		_, p, err := net.SplitHostPort(b)
		if err != nil {
			t.Fatalf("testenv: broker address %q: %v", b, err)
			return
		}
		n, _ := strconv.Atoi(p)
		ports = append(ports, n)
	}
	k.cluster.Close() // persists the state to DataDir
	opts := append(append([]kfake.Opt(nil), k.opts...), kfake.Ports(ports...))
	var err error
	for attempt := 0; attempt < 100; attempt++ { // the old port may be taken for a moment
		var c *kfake.Cluster
		if c, err = kfake.NewCluster(opts...); err == nil {
			k.cluster = c
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("testenv: restart kfake cluster on ports %v: %v", ports, err)
}

func (k *KafkaCluster) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cluster != nil {
		k.cluster.Close()
	}
}
