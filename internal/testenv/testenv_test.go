package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/vidlib/vidlib/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pgConnect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctxT(t), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func currentSchema(t testing.TB, conn *pgx.Conn) string {
	t.Helper()
	var s string
	require.NoError(t, conn.QueryRow(ctxT(t), "SELECT current_schema()").Scan(&s))
	return s
}

func TestPostgresURLGivesEachTestItsOwnSchema(t *testing.T) {
	ctx := ctxT(t)
	outer := pgConnect(t, testenv.PostgresURL(t))
	outerSchema := currentSchema(t, outer)
	require.Regexp(t, `^t_testpostgresurlgiveseachtestitsownschema_[0-9a-f]{8}$`, outerSchema)
	_, err := outer.Exec(ctx, "CREATE TABLE items (id int PRIMARY KEY)")
	require.NoError(t, err)
	_, err = outer.Exec(ctx, "INSERT INTO items VALUES (1), (2)")
	require.NoError(t, err)

	// Parallel tests each get a distinct, empty schema in which the outer table is invisible.
	var mu sync.Mutex
	seen := map[string]bool{outerSchema: true}
	t.Run("group", func(t *testing.T) {
		for i := range 4 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				conn := pgConnect(t, testenv.PostgresURL(t))
				s := currentSchema(t, conn)
				mu.Lock()
				require.False(t, seen[s], "schema %s handed out twice", s)
				seen[s] = true
				mu.Unlock()

				_, err := conn.Exec(ctxT(t), "SELECT id FROM items")
				var pgErr *pgconn.PgError
				require.True(t, errors.As(err, &pgErr), "want a PostgreSQL error, got %v", err)
				require.Equal(t, "42P01", pgErr.Code) // undefined_table
				_, err = conn.Exec(ctxT(t), "CREATE TABLE items (name text)")
				require.NoError(t, err)
			})
		}
	})
	require.Len(t, seen, 5)

	// The subtests' schemas were dropped at their cleanup; ours is intact.
	for s := range seen {
		var n int
		require.NoError(t, outer.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", s).Scan(&n))
		if s == outerSchema {
			require.Equal(t, 1, n)
		} else {
			require.Zero(t, n, "schema %s of a finished test still exists", s)
		}
	}
	var count int
	require.NoError(t, outer.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&count))
	require.Equal(t, 2, count)
}

func redisClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRedisGivesEachTestItsOwnPrefixAndCleansIt(t *testing.T) {
	ctx := ctxT(t)
	url, prefix := testenv.Redis(t)
	require.Regexp(t, `^t[0-9a-f]{16}:$`, prefix)
	c := redisClient(t, url)
	require.NoError(t, c.Set(ctx, prefix+"mine", "1", 0).Err())
	// A key outside any test prefix must survive every test's cleanup.
	outside := "testenv-outside-" + prefix
	require.NoError(t, c.Set(ctx, outside, "x", time.Minute).Err())
	t.Cleanup(func() { c.Del(context.Background(), outside) })

	var inner string
	t.Run("inner", func(t *testing.T) {
		u2, p2 := testenv.Redis(t)
		require.Equal(t, url, u2, "one server per test binary")
		require.NotEqual(t, prefix, p2)
		inner = p2
		for i := range 1500 { // more than one SCAN batch
			require.NoError(t, c.Set(ctxT(t), fmt.Sprintf("%sk%d", p2, i), i, 0).Err())
		}
	})

	keys, _, err := c.Scan(ctx, 0, inner+"*", 10000).Result()
	require.NoError(t, err)
	require.Empty(t, keys, "keys of a finished test must be deleted")
	require.Equal(t, "1", c.Get(ctx, prefix+"mine").Val())
	require.Equal(t, "x", c.Get(ctx, outside).Val())
}

func TestKafkaProduceConsumeAndRestartKeepsData(t *testing.T) {
	ctx := ctxT(t)
	k := testenv.Kafka(t, testenv.WithPartitions(3))
	if k.External() {
		t.Skip("restart needs the in-process broker")
	}
	topic, group := k.Topic("orders"), k.Topic("g")
	require.Regexp(t, `^t[0-9a-f]{12}\.orders$`, topic)
	brokers := k.Brokers()
	require.Len(t, brokers, 1)

	produce := func(from, to int) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.AllowAutoTopicCreation(),
			kgo.RecordPartitioner(kgo.ManualPartitioner()))
		require.NoError(t, err)
		defer cl.Close()
		var rs []*kgo.Record
		for i := from; i < to; i++ {
			rs = append(rs, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(strconv.Itoa(i))})
		}
		require.NoError(t, cl.ProduceSync(ctx, rs...).FirstErr())
	}
	// consume reads n records, from the start or from the group's committed offsets.
	consume := func(n int, groupOpts ...kgo.Opt) []string {
		opts := append([]kgo.Opt{kgo.SeedBrokers(k.Brokers()...), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100 * time.Millisecond)}, groupOpts...)
		cl, err := kgo.NewClient(opts...)
		require.NoError(t, err)
		defer cl.Close()
		var got []string
		for len(got) < n {
			fs := cl.PollFetches(ctx)
			require.NoError(t, ctx.Err(), "timed out with %d of %d records", len(got), n)
			for _, e := range fs.Errors() {
				require.NoError(t, e.Err)
			}
			fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		}
		if len(groupOpts) > 0 {
			require.NoError(t, cl.CommitUncommittedOffsets(ctx))
		}
		return got
	}
	seq := func(from, to int) []string {
		var s []string
		for i := from; i < to; i++ {
			s = append(s, strconv.Itoa(i))
		}
		return s
	}

	produce(0, 20)
	// Auto-created topics get the configured number of partitions.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	require.NoError(t, err)
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	cl.Close()
	require.NoError(t, err)
	require.Len(t, resp.Topics, 1)
	require.Len(t, resp.Topics[0].Partitions, 3)

	groupOpts := []kgo.Opt{kgo.ConsumerGroup(group), kgo.DisableAutoCommit()}
	require.Equal(t, seq(0, 20), consume(20, groupOpts...))

	before := k.Cluster()
	k.Restart(t)
	require.Equal(t, brokers, k.Brokers(), "restart keeps the ports")
	require.NotSame(t, before, k.Cluster())

	produce(20, 25)
	require.Equal(t, seq(0, 25), consume(25), "records written before the restart are kept")
	require.Equal(t, seq(20, 25), consume(5, groupOpts...), "the group resumes at its committed offset")
}

func TestKafkaGivesEachTestItsOwnCluster(t *testing.T) {
	a, b := testenv.Kafka(t), testenv.Kafka(t)
	require.NotEqual(t, a.TopicPrefix(), b.TopicPrefix())
	if !a.External() {
		require.NotEqual(t, a.Brokers(), b.Brokers())
	}
}

// recTB records Skipf/Fatalf instead of ending the test.
type recTB struct {
	testing.TB
	skipped, failed string
}

func (r *recTB) Helper()                          {}
func (r *recTB) Skipf(format string, args ...any) { r.skipped = fmt.Sprintf(format, args...) }
func (r *recTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

func TestKafkaWithExternalBrokers(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]
	t.Setenv(testenv.EnvKafkaBrokers, " "+addr+" ,")

	k := testenv.Kafka(t, testenv.WithPartitions(7)) // options are ignored
	require.True(t, k.External())
	require.Equal(t, []string{addr}, k.Brokers())
	require.Nil(t, k.Cluster())

	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			rec := &recTB{TB: t}
			k.Restart(rec)
			if ci == "true" {
				require.Contains(t, rec.failed, "not possible with external brokers")
				require.Empty(t, rec.skipped)
			} else {
				require.Contains(t, rec.skipped, "not possible with external brokers")
				require.Empty(t, rec.failed)
			}
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		c2, err := kfake.NewCluster(kfake.NumBrokers(1))
		require.NoError(t, err)
		dead := c2.ListenAddrs()[0]
		c2.Close()
		t.Setenv(testenv.EnvKafkaBrokers, dead)
		rec := &recTB{TB: t}
		testenv.Kafka(rec)
		require.Contains(t, rec.failed, "does not answer")
	})
}
