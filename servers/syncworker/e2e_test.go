package syncworker_test

import (
	"context"
	"net/http/httptest"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/tree/changeevents"
	"github.com/vidlib/vidlib/tree/vimeosource"
	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// world is a fake Vimeo account with an App Webhook pointing at a running
// sync worker (the module's parts, built without fx) that mirrors it into
// PostgreSQL.
type world struct {
	acct    *vimeotest.Account
	fake    *vimeotest.Server
	clock   *vimeotest.VirtualClock
	root    int64
	store   *pgstore.Store
	applied *observed // applier outcomes
	stop    func()
}

func startWorld(tb testing.TB, b bus, videos int) *world {
	tb.Helper()
	return startWorldSigned(tb, b, videos, vimeo.WebhookOptions{}, vimeotest.WebhookOptions{})
}

// startWorldSigned is startWorld with the intake verifying, and the fake
// signing, webhooks with the given schemes.
func startWorldSigned(tb testing.TB, b bus, videos int, scheme vimeo.WebhookOptions, emitter vimeotest.WebhookOptions) *world {
	tb.Helper()
	ctx := context.Background()
	clock := vimeotest.NewVirtualClock(time.Now().UTC().Truncate(time.Second))
	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 7, Folders: 6, Videos: videos,
		OutsideFolders: 1, OutsideVideos: 3, Clock: clock})
	require.NoError(tb, err)
	fake := vimeotest.Start(tb, acct, &vimeotest.Options{Webhooks: emitter})
	client, err := vimeo.New(fake.Token(), &vimeo.Options{BaseURL: fake.URL()})
	require.NoError(tb, err)
	src, err := vimeosource.New(client, strconv.FormatInt(root, 10), nil)
	require.NoError(tb, err)
	store := openPG(tb, testenv.PostgresURL(tb))
	mirror, err := tree.NewMirror(store, src, &tree.MirrorOptions{Record: changeevents.Record(), RecordHeld: changeevents.RecordHeld()})
	require.NoError(tb, err)
	scheme.Clock = clock
	verifier, err := vimeo.NewWebhookVerifier(secret, &scheme)
	require.NoError(tb, err)

	w := &world{acct: acct, fake: fake, clock: clock, root: root, store: store, applied: &observed{}}
	startup := make(chan error, 1)
	fast := syncworker.ConsumerOptions{RedeliveryDelay: 10 * time.Millisecond}
	res, err := syncworker.Provide(syncworker.Params{
		Mirror: mirror, Store: store, Verifier: verifier, Publisher: b, Subscriber: b,
		Config: syncworker.Config{
			Normalizer: fast,
			Applier: syncworker.ApplierOptions{ConsumerOptions: syncworker.ConsumerOptions{
				RedeliveryDelay: 10 * time.Millisecond, Observe: w.applied.fn}},
			Scheduler: syncworker.SchedulerOptions{OnRun: func(trigger string, _ *tree.Report, err error) {
				if trigger == tree.TriggerStartup {
					startup <- err
				}
			}},
			// No poll: changes must arrive through the webhook.
			DisablePoll: true,
			Relay:       events.RelayOptions{PollInterval: 5 * time.Millisecond},
		},
	})
	require.NoError(tb, err)
	require.NoError(tb, res.Worker.Start(ctx))
	hook := httptest.NewServer(res.Intake)
	w.stop = func() {
		hook.Close()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		require.NoError(tb, res.Worker.Stop(sctx))
	}
	tb.Cleanup(w.stop)
	require.NoError(tb, <-startup, "the empty mirror is reconciled at start")
	for _, typ := range []string{"video-created", "video-updated", "video-deleted"} {
		_, err := fake.AddWebhook(hook.URL+syncworker.WebhookPath, typ, secret, true)
		require.NoError(tb, err)
	}
	return w
}

// mirroredTitle reads a video's title straight from PostgreSQL.
func (w *world) mirroredTitle(ctx context.Context, vimeoID string) (title string, found bool) {
	err := w.store.Pool().QueryRow(ctx, `SELECT title FROM videos WHERE vimeo_video_id = $1 AND deleted_at IS NULL`, vimeoID).Scan(&title)
	return title, err == nil
}

// videosIn returns the ids of the videos under the mirrored root, and of
// some outside it.
func (w *world) videos(tb testing.TB) (inside, outside []int64) {
	snap, err := w.acct.Snapshot(w.root, "", "")
	require.NoError(tb, err)
	in := map[int64]bool{}
	for _, v := range snap.Videos {
		id, _ := strconv.ParseInt(v.ID, 10, 64)
		in[id] = true
		inside = append(inside, id)
	}
	for _, v := range w.acct.Videos() {
		if !in[v.ID] {
			outside = append(outside, v.ID)
		}
	}
	sort.Slice(inside, func(i, j int) bool { return inside[i] < inside[j] })
	require.NotEmpty(tb, inside)
	require.NotEmpty(tb, outside)
	return inside, outside
}

func (w *world) flush(tb testing.TB) {
	tb.Helper()
	n, err := w.fake.FlushWebhooks(context.Background())
	require.NoError(tb, err)
	require.Equal(tb, 1, n, "the fake's webhook was delivered and accepted")
}

func TestWebhookEndToEnd(t *testing.T) {
	for _, bc := range busCases {
		t.Run(bc.name, func(t *testing.T) {
			ctx := context.Background()
			w := startWorld(t, bc.open(t), 30)
			inside, outside := w.videos(t)
			v := inside[0]
			id := strconv.FormatInt(v, 10)
			before, ok := w.mirroredTitle(ctx, id)
			require.True(t, ok, "mirrored by the start-up reconciliation")

			// An edit in Vimeo reaches PostgreSQL through the webhook.
			w.clock.Advance(time.Second)
			require.NoError(t, w.acct.RenameVideo(v, "Renamed in Vimeo"))
			w.flush(t)
			eventually(t, "the new title in PostgreSQL", func() bool {
				title, _ := w.mirroredTitle(ctx, id)
				return title == "Renamed in Vimeo"
			})
			require.NotEqual(t, before, "Renamed in Vimeo")

			// A video outside the mirrored root changes nothing.
			version, err := w.store.ContentVersion(ctx)
			require.NoError(t, err)
			o := outside[0]
			w.clock.Advance(time.Second)
			require.NoError(t, w.acct.RenameVideo(o, "Not ours"))
			w.flush(t)
			eventually(t, "the outside refetch handled", func() bool {
				return w.applied.get(syncworker.EventVideoRefetch+"/handled") == 2
			})
			_, found := w.mirroredTitle(ctx, strconv.FormatInt(o, 10))
			require.False(t, found, "a video outside the root is not mirrored")
			after, err := w.store.ContentVersion(ctx)
			require.NoError(t, err)
			require.Equal(t, version, after, "the content version did not move")

			// A deletion in Vimeo is confirmed by the refetch and applied.
			gone := inside[1]
			w.clock.Advance(time.Second)
			require.NoError(t, w.acct.DeleteVideo(gone))
			w.flush(t)
			eventually(t, "the deleted video soft-deleted in PostgreSQL", func() bool {
				_, found := w.mirroredTitle(ctx, strconv.FormatInt(gone, 10))
				return !found
			})

			// Every webhook was stored once and processed.
			pes, err := w.store.ListProviderEvents(ctx, events.ProviderEventFilter{})
			require.NoError(t, err)
			require.Len(t, pes, 3)
			eventually(t, "provider events processed", func() bool {
				pes, err := w.store.ListProviderEvents(ctx, events.ProviderEventFilter{Status: events.ProviderEventProcessed})
				return err == nil && len(pes) == 3
			})
		})
	}
}
