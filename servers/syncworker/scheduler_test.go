package syncworker_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
)

// blockingMirror records how many reconciliations run at once; each blocks
// until the test lets it go.
type blockingMirror struct {
	fakeMirror
	inside, most atomic.Int32
	entered      chan struct{}
	leave        chan struct{}
}

func newBlockingMirror() *blockingMirror {
	b := &blockingMirror{entered: make(chan struct{}, 16), leave: make(chan struct{})}
	b.reconcile = func(ctx context.Context, _ tree.ReconcileOptions) error {
		n := b.inside.Add(1)
		defer b.inside.Add(-1)
		for {
			m := b.most.Load()
			if n <= m || b.most.CompareAndSwap(m, n) {
				break
			}
		}
		b.entered <- struct{}{}
		select {
		case <-b.leave:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b
}

func TestTwoSchedulersOnOnePostgresNeverReconcileAtOnce(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresURL(t)
	storeA, storeB := openPG(t, dsn), openPG(t, dsn) // two workers, one database
	mirror := newBlockingMirror()                    // shared, so it sees both
	a, err := syncworker.NewScheduler(mirror, storeA, nil)
	require.NoError(t, err)
	b, err := syncworker.NewScheduler(mirror, storeB, nil)
	require.NoError(t, err)

	errA := make(chan error, 1)
	go func() {
		_, err := a.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerAdmin})
		errA <- err
	}()
	<-mirror.entered // A holds the lock and is reconciling

	_, err = b.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerAdmin})
	require.ErrorIs(t, err, syncworker.ErrBusy, "the other worker must not start")
	_, err = a.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerAdmin})
	require.ErrorIs(t, err, syncworker.ErrBusy, "nor a second run in the same worker")
	require.Equal(t, tree.TriggerAdmin, a.Running())
	require.Empty(t, b.Running())

	// Many concurrent attempts from both while A is still inside.
	var wg sync.WaitGroup
	var busy atomic.Int32
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			if _, err := s.Reconcile(ctx, tree.ReconcileOptions{}); errors.Is(err, syncworker.ErrBusy) {
				busy.Add(1)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int32(10), busy.Load())

	mirror.leave <- struct{}{}
	require.NoError(t, <-errA)

	// Released: B can run now.
	errB := make(chan error, 1)
	go func() {
		_, err := b.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerAdmin})
		errB <- err
	}()
	<-mirror.entered
	_, err = a.Reconcile(ctx, tree.ReconcileOptions{})
	require.ErrorIs(t, err, syncworker.ErrBusy)
	mirror.leave <- struct{}{}
	require.NoError(t, <-errB)
	require.Equal(t, int32(1), mirror.most.Load())
}

func TestSchedulersRunningLoopsNeverOverlap(t *testing.T) {
	dsn := testenv.PostgresURL(t)
	mirror := &fakeMirror{}
	var inside, most, runs atomic.Int32
	mirror.reconcile = func(ctx context.Context, _ tree.ReconcileOptions) error {
		n := inside.Add(1)
		defer inside.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		runs.Add(1)
		time.Sleep(time.Millisecond) // widen the window in which an overlap would show
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		s, err := syncworker.NewScheduler(mirror, openPG(t, dsn), &syncworker.SchedulerOptions{Interval: time.Millisecond, Jitter: -1})
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, s.Run(ctx))
		}()
	}
	eventually(t, "20 scheduled runs", func() bool { return runs.Load() >= 20 })
	cancel()
	wg.Wait()
	require.Equal(t, int32(1), most.Load())
}

func TestSchedulerStartupRunOnlyWhenEmpty(t *testing.T) {
	for _, empty := range []bool{true, false} {
		mirror := &fakeMirror{}
		asked := make(chan struct{})
		ran := make(chan string, 4)
		s, err := syncworker.NewScheduler(mirror, memstore.New(), &syncworker.SchedulerOptions{
			Interval: time.Hour,
			IsEmpty: func(context.Context) (bool, error) {
				close(asked)
				return empty, nil
			},
			OnRun: func(trigger string, rep *tree.Report, err error) {
				require.NoError(t, err)
				ran <- trigger
			},
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		<-asked
		if empty {
			require.Equal(t, tree.TriggerStartup, <-ran)
		}
		cancel()
		require.NoError(t, <-done)
		mirror.mu.Lock()
		if empty {
			require.Equal(t, []string{tree.TriggerStartup}, mirror.triggers)
		} else {
			require.Empty(t, mirror.triggers, "a mirror with content waits for the schedule")
		}
		mirror.mu.Unlock()
	}
}

func TestEmptyMirror(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	empty, err := syncworker.EmptyMirror(s)(ctx)
	require.NoError(t, err)
	require.True(t, empty)
	_, err = s.Update(ctx, func(tx tree.Tx) error {
		return tx.UpsertFolders(ctx, []tree.Folder{{VimeoID: "1", Name: "root"}})
	})
	require.NoError(t, err)
	empty, err = syncworker.EmptyMirror(s)(ctx)
	require.NoError(t, err)
	require.False(t, empty)
}

func TestPollLoop(t *testing.T) {
	mirror := &fakeMirror{}
	var polls atomic.Int32
	failOnce := errors.New("vimeo 503")
	mirror.poll = func(context.Context) error {
		if polls.Add(1) == 2 {
			return failOnce
		}
		return nil
	}
	var reports, failures atomic.Int32
	s := memstore.New()
	p, err := syncworker.NewPollLoop(mirror, &syncworker.PollLoopOptions{Interval: time.Millisecond, Locker: s,
		OnPoll: func(rep *tree.Report, err error) {
			if err != nil {
				require.ErrorIs(t, err, failOnce)
				failures.Add(1)
				return
			}
			require.Equal(t, tree.TriggerPoll, rep.Run.Trigger)
			reports.Add(1)
		}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	eventually(t, "polls go on after a failure", func() bool { return reports.Load() >= 3 })
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, int32(1), failures.Load())

	// Another worker holds the poll lock: the round is skipped.
	release, ok, err := s.TryLock(context.Background(), syncworker.LockPoll)
	require.NoError(t, err)
	require.True(t, ok)
	before := polls.Load()
	rep, err := p.PollOnce(context.Background())
	require.NoError(t, err)
	require.Nil(t, rep)
	require.Equal(t, before, polls.Load(), "the mirror was not polled")
	release()
	rep, err = p.PollOnce(context.Background())
	require.NoError(t, err)
	require.NotNil(t, rep)
}

func TestLoopOptionsValidate(t *testing.T) {
	_, err := syncworker.NewPollLoop(nil, nil)
	require.ErrorIs(t, err, syncworker.ErrInvalid)
	_, err = syncworker.NewPollLoop(&fakeMirror{}, &syncworker.PollLoopOptions{Interval: -1})
	require.ErrorIs(t, err, syncworker.ErrInvalid)
	_, err = syncworker.NewScheduler(&fakeMirror{}, nil, nil)
	require.ErrorIs(t, err, syncworker.ErrInvalid)
	_, err = syncworker.NewScheduler(&fakeMirror{}, memstore.New(), &syncworker.SchedulerOptions{Jitter: 2})
	require.ErrorIs(t, err, syncworker.ErrInvalid)
	require.ErrorContains(t, err, "reconcile jitter 2 above 1")
	_, err = syncworker.NewPollLoop(&fakeMirror{}, &syncworker.PollLoopOptions{Jitter: 1.5})
	require.ErrorIs(t, err, syncworker.ErrInvalid)
	require.ErrorContains(t, err, "poll jitter 1.5 above 1")
	_, err = syncworker.NewScheduler(&fakeMirror{}, memstore.New(), &syncworker.SchedulerOptions{Interval: -time.Second})
	require.ErrorIs(t, err, syncworker.ErrInvalid)
	require.ErrorContains(t, err, "negative reconcile interval")
	// Negative jitter means none, and is accepted.
	_, err = syncworker.NewPollLoop(&fakeMirror{}, &syncworker.PollLoopOptions{Jitter: -1})
	require.NoError(t, err)
}

func TestRequestTriggersAReconciliation(t *testing.T) {
	mirror := &fakeMirror{}
	ran := make(chan string, 4)
	s, err := syncworker.NewScheduler(mirror, memstore.New(), &syncworker.SchedulerOptions{
		Interval: time.Hour, MinRequestGap: -1,
		OnRun: func(trigger string, _ *tree.Report, err error) {
			require.NoError(t, err)
			ran <- trigger
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	s.Request()
	require.Equal(t, tree.TriggerSchedule, <-ran)
	s.Request()
	require.Equal(t, tree.TriggerSchedule, <-ran, "a later request runs again (no gap configured)")
	cancel()
	require.NoError(t, <-done)
}

func TestPollAskingForReconcileRequestsOne(t *testing.T) {
	m := &needsReconcileMirror{}
	asked := make(chan struct{}, 8)
	p, err := syncworker.NewPollLoop(m, &syncworker.PollLoopOptions{Interval: time.Millisecond,
		NeedsReconcile: func() { asked <- struct{}{} }})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	<-asked
	cancel()
	require.NoError(t, <-done)
}

type needsReconcileMirror struct{ fakeMirror }

func (*needsReconcileMirror) Poll(context.Context) (*tree.Report, error) {
	return &tree.Report{NeedsReconcile: true}, nil
}
