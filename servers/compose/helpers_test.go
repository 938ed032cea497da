package compose

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// migratedStore opens the test's PostgreSQL database and migrates it; it is
// closed when the test ends.
func migratedStore(t *testing.T, dsn string) *pgstore.Store {
	t.Helper()
	st, err := pgstore.Open(context.Background(), dsn, nil)
	require.NoError(t, err)
	t.Cleanup(st.Close)
	_, err = st.Migrate(context.Background())
	require.NoError(t, err)
	return st
}

// allowEveryone adds the rule that lets every signed-in user see folder.
func allowEveryone(t *testing.T, st *pgstore.Store, folder string) {
	t.Helper()
	sub, err := entitle.ParseSubject("everyone")
	require.NoError(t, err)
	tg, err := entitle.ParseTarget("folder:" + folder)
	require.NoError(t, err)
	_, _, err = st.AddRule(context.Background(), entitle.Rule{Subject: sub, Target: tg, Effect: entitle.Allow, CreatedBy: "test"})
	require.NoError(t, err)
}

// startIssuer starts a local sign-in issuer, stopped when the test ends.
func startIssuer(t *testing.T) *authtest.Issuer {
	t.Helper()
	issuer, err := authtest.Start(nil)
	require.NoError(t, err)
	t.Cleanup(issuer.Close)
	return issuer
}

// envWith is fullEnv with the settings of each of over on top, in order.
func envWith(over ...map[string]string) map[string]string {
	env := maps.Clone(fullEnv)
	for _, o := range over {
		maps.Copy(env, o)
	}
	return env
}

// servicesEnv points the settings at the test's PostgreSQL, Redis and Kafka.
func servicesEnv(dsn, redisURL string, kc *testenv.KafkaCluster) map[string]string {
	return map[string]string{"VIDLIB_POSTGRES_URL": dsn, "VIDLIB_REDIS_URL": redisURL,
		"VIDLIB_KAFKA_BROKERS": strings.Join(kc.Brokers(), ","), "VIDLIB_KAFKA_TOPIC_PREFIX": kc.TopicPrefix()}
}

// fakeVimeoEnv points the settings at a fake Vimeo account's root folder,
// polled only every 10 minutes (the startup run and the test call Vimeo).
func fakeVimeoEnv(fake *vimeotest.Server, root int64) map[string]string {
	return map[string]string{"VIDLIB_VIMEO_TOKEN": fake.Token(), "VIDLIB_VIMEO_BASE_URL": fake.URL(),
		"VIDLIB_VIMEO_ROOT_FOLDER_ID": strconv.FormatInt(root, 10), "VIDLIB_POLL_INTERVAL": "10m"}
}

// runApp runs app until the test ends or stop is called: stop ends the run
// (as SIGTERM does) and returns its error, once; a run that fails is
// reported at the test's end, naming the process.
func runApp(t *testing.T, name string, app *fx.App) (stop func() error) {
	t.Helper()
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, app) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
	return stop
}

// trust makes the composition trust the local issuer instead of cfg's.
func trust(issuer *authtest.Issuer) fx.Option {
	return fx.Replace(Issuers{{Kind: auth.Cognito, URL: issuer.URL(), ClientIDs: []string{issuer.ClientID()}}})
}
