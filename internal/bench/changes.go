package bench

// The change stream: video edits, moves and deletes and rule changes,
// written while the load runs through the interfaces the sync worker and the
// admin write through (tree.Store.Update, entitle.RuleStore) and announced
// as they announce them (the composition's Versions), so that the API's
// generation follows them as it follows a deployment's.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/loadgen/dataset"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/tree"
)

// changeRates are the change stream's rates, per second.
type changeRates struct {
	Edits       float64 `json:"edits"`
	Moves       float64 `json:"moves"`
	Deletes     float64 `json:"deletes"`
	RuleChanges float64 `json:"rule_changes"`
}

func (r changeRates) any() bool {
	return r.Edits > 0 || r.Moves > 0 || r.Deletes > 0 || r.RuleChanges > 0
}

func (r changeRates) valid() bool {
	return r.Edits >= 0 && r.Moves >= 0 && r.Deletes >= 0 && r.RuleChanges >= 0
}

// probe is a sampled video one user may watch: edits to it are polled
// through the API with the user's token until the new title shows.
type probe struct {
	Video string `json:"video"`
	Token string `json:"token"`
}

// changePlan is what the stream does: sent to the API process as one JSON
// line on its stdin when the measured window starts.
type changePlan struct {
	Rates    changeRates   `json:"rates"`
	Duration time.Duration `json:"duration"`
	Probes   []probe       `json:"probes"`
	Seed     uint64        `json:"seed"`
}

// changeReport is what the stream did, printed by the benchmark.
type changeReport struct {
	Due        changeCounts `json:"due"`     // what the rates asked for in the window
	Applied    changeCounts `json:"applied"` // what was written and announced
	Failed     int          `json:"failed"`
	FirstError string       `json:"first_error,omitempty"`
	// Probed edits were polled through GET /videos/{id}; Seen of them showed
	// the new title within probeTimeout, after VisibleP50/P90/Max (from the
	// write's return to the first answer that carried the new title).
	Probed     int           `json:"probed"`
	Seen       int           `json:"seen"`
	VisibleP50 time.Duration `json:"visible_p50"`
	VisibleP90 time.Duration `json:"visible_p90"`
	VisibleMax time.Duration `json:"visible_max"`
	// Write is the mean time one change took to write and announce.
	Write time.Duration `json:"write_mean"`
}

type changeCounts struct {
	Edits        int `json:"edits"`
	Moves        int `json:"moves"`
	Deletes      int `json:"deletes"`
	RulesAdded   int `json:"rules_added"`
	RulesRemoved int `json:"rules_removed"`
}

// probeTimeout bounds how long one probed edit is polled for.
const probeTimeout = 60 * time.Second

// changeStore is what the stream writes through, and reads the rows it
// edits from.
type changeStore interface {
	tree.Store
	tree.ContentFeed
	entitle.RuleStore
}

// announcer publishes a version bump (the composition's Versions).
type announcer interface {
	Publish(ctx context.Context, name string, v int64) error
}

// changeStream runs a changePlan. It keeps only what it needs of the
// generated library (counts, the churn videos' homes, the generated rules'
// keys), not the library itself: in the API's process (--server=process)
// a copy of a million generated videos would count in the API's heap and
// RSS. The videos it edits are read from the store.
type changeStream struct {
	st         changeStore
	ann        announcer
	videos     int      // generated videos: dataset.VideoID(0 … videos-1)
	folders    int      // generated folders: dataset.FolderID(0 … folders-1)
	churnUsers int      // the last churnUsers of userIDs are the churn users
	userIDs    []string // the stored ids of the generated users (only the churn users' are needed)
	target     string   // the API's base URL
	client     *http.Client

	mu       sync.Mutex
	rep      changeReport
	visible  []time.Duration
	writes   time.Duration
	r        *rngSource
	churn    []int          // indexes of churn videos not deleted
	homes    []string       // the folders churn videos were generated in
	at       map[int]string // churn video → its folder now
	rules    []int64        // rule ids the stream added, oldest first
	ruleKeys map[string]bool
	editN    int
	probes   sync.WaitGroup
}

func newChangeStream(st changeStore, ann announcer, ds *dataset.Dataset, userIDs []string, target string, seed uint64) *changeStream {
	c := &changeStream{st: st, ann: ann, videos: len(ds.Videos), folders: len(ds.Folders), churnUsers: ds.ChurnUsers(),
		userIDs: userIDs, target: target, r: &rngSource{state: seed ^ 0xc0ffee},
		at: map[int]string{}, ruleKeys: make(map[string]bool, len(ds.Rules)), client: &http.Client{Timeout: 10 * time.Second}}
	homes := map[string]bool{}
	for i, p := range ds.Placements {
		if dataset.ChurnVideo(i) {
			c.churn = append(c.churn, i)
			c.at[i] = p.FolderVimeoID
			if !homes[p.FolderVimeoID] {
				homes[p.FolderVimeoID] = true
				c.homes = append(c.homes, p.FolderVimeoID)
			}
		}
	}
	for _, r := range ds.Rules {
		c.ruleKeys[ruleKey(r.Subject.Kind, r.Subject.Name, r.Target)] = true
	}
	return c
}

func ruleKey(kind entitle.SubjectKind, name string, t entitle.Target) string {
	return string(kind) + ":" + name + " " + t.String()
}

// run writes changes at the plan's rates for its duration, waits for the
// probes, and reports.
func (c *changeStream) run(ctx context.Context, plan *changePlan) changeReport {
	ctx, cancel := context.WithTimeout(ctx, plan.Duration)
	defer cancel()
	probeEvery := max(1, int(plan.Rates.Edits)) // about one probed edit a second
	kinds := []struct {
		rate float64
		do   func(ctx context.Context, n int) error
	}{
		{plan.Rates.Edits, func(ctx context.Context, n int) error {
			var p *probe
			if len(plan.Probes) > 0 && n%probeEvery == 0 {
				p = &plan.Probes[(n/probeEvery)%len(plan.Probes)]
			}
			return c.edit(ctx, p)
		}},
		{plan.Rates.Moves, func(ctx context.Context, _ int) error { return c.move(ctx) }},
		{plan.Rates.Deletes, func(ctx context.Context, _ int) error { return c.delete(ctx) }},
		{plan.Rates.RuleChanges, func(ctx context.Context, n int) error { return c.ruleChange(ctx, n) }},
	}
	var wg sync.WaitGroup
	start := time.Now()
	for _, kind := range kinds {
		if kind.rate <= 0 {
			continue
		}
		interval := time.Duration(float64(time.Second) / kind.rate)
		wg.Go(func() {
			for n := 0; ; n++ {
				due := start.Add(time.Duration(n) * interval)
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(due)):
				}
				t0 := time.Now()
				err := kind.do(ctx, n)
				c.mu.Lock()
				c.writes += time.Since(t0)
				if err != nil && ctx.Err() == nil {
					c.rep.Failed++
					if c.rep.FirstError == "" {
						c.rep.FirstError = err.Error()
					}
				}
				c.mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := plan.Duration.Seconds()
	c.rep.Due = changeCounts{Edits: int(plan.Rates.Edits * elapsed), Moves: int(plan.Rates.Moves * elapsed),
		Deletes: int(plan.Rates.Deletes * elapsed), RulesAdded: int(plan.Rates.RuleChanges * elapsed / 2)}
	c.rep.Due.RulesRemoved = int(plan.Rates.RuleChanges*elapsed) - c.rep.Due.RulesAdded
	c.probes.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	rep := c.rep
	if n := rep.Applied.Edits + rep.Applied.Moves + rep.Applied.Deletes + rep.Applied.RulesAdded + rep.Applied.RulesRemoved + rep.Failed; n > 0 {
		rep.Write = (c.writes / time.Duration(n)).Round(time.Microsecond)
	}
	slices.Sort(c.visible)
	rep.Seen = len(c.visible)
	if len(c.visible) > 0 {
		q := func(p float64) time.Duration { return c.visible[min(len(c.visible)-1, int(p*float64(len(c.visible))))] }
		rep.VisibleP50, rep.VisibleP90, rep.VisibleMax = q(0.5), q(0.9), c.visible[len(c.visible)-1]
	}
	return rep
}

// update writes fn through tree.Store.Update and announces the version.
func (c *changeStream) update(ctx context.Context, fn func(tree.Tx) error) error {
	v, err := c.st.Update(ctx, fn)
	if err != nil {
		return err
	}
	return c.ann.Publish(ctx, library.VersionContent, v)
}

// edit retitles a random video (p's, when given, then polled): its row as
// the store has it, with " (edit n)" in place of an earlier edit's suffix.
func (c *changeStream) edit(ctx context.Context, p *probe) error {
	c.mu.Lock()
	c.editN++
	n := c.editN
	id := ""
	if p != nil {
		id = p.Video
	} else {
		id = dataset.VideoID(c.r.intn(c.videos))
	}
	c.mu.Unlock()
	objs, err := c.st.LoadObjects(ctx, nil, []string{id})
	if err != nil {
		return fmt.Errorf("edit video %s: read it: %w", id, err)
	}
	if len(objs.Videos) != 1 {
		return fmt.Errorf("edit video %s: the store has no such video", id)
	}
	v := objs.Videos[0]
	if i := strings.Index(v.Title, " (edit "); i >= 0 {
		v.Title = v.Title[:i]
	}
	v.Title = fmt.Sprintf("%s (edit %d)", v.Title, n)
	v.ModifiedAt = v.ModifiedAt.Add(time.Second)
	if err := c.update(ctx, func(tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{v}) }); err != nil {
		return fmt.Errorf("edit video %s: %w", v.VimeoID, err)
	}
	wrote := time.Now()
	c.mu.Lock()
	c.rep.Applied.Edits++
	if p != nil {
		c.rep.Probed++
	}
	c.mu.Unlock()
	if p != nil {
		c.probes.Go(func() { c.poll(*p, v.Title, wrote) })
	}
	return nil
}

// poll asks GET /videos/{id} as the probe's user until the answer carries
// title, and records how long that took.
func (c *changeStream) poll(p probe, title string, since time.Time) {
	want := []byte(strings.ReplaceAll(title, `"`, `\"`))
	deadline := since.Add(probeTimeout)
	for time.Now().Before(deadline) {
		req, err := http.NewRequest(http.MethodGet, c.target+"/videos/"+p.Video, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+p.Token)
		if resp, err := c.client.Do(req); err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), string(want)) {
				c.mu.Lock()
				c.visible = append(c.visible, time.Since(since))
				c.mu.Unlock()
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// move places a random churn video in another churn video's home folder.
func (c *changeStream) move(ctx context.Context) error {
	c.mu.Lock()
	if len(c.churn) == 0 || len(c.homes) < 2 {
		c.mu.Unlock()
		return errors.New("no churn video left to move")
	}
	i := c.churn[c.r.intn(len(c.churn))]
	to := c.homes[c.r.intn(len(c.homes))]
	for to == c.at[i] {
		to = c.homes[c.r.intn(len(c.homes))]
	}
	c.mu.Unlock()
	id := dataset.VideoID(i)
	if err := c.update(ctx, func(tx tree.Tx) error {
		return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: to, VideoVimeoID: id, SortOrder: 1_000_000 + i}})
	}); err != nil {
		return fmt.Errorf("move video %s: %w", id, err)
	}
	c.mu.Lock()
	c.at[i] = to
	c.rep.Applied.Moves++
	c.mu.Unlock()
	return nil
}

// delete soft-deletes a random churn video.
func (c *changeStream) delete(ctx context.Context) error {
	c.mu.Lock()
	if len(c.churn) == 0 {
		c.mu.Unlock()
		return errors.New("no churn video left to delete")
	}
	k := c.r.intn(len(c.churn))
	i := c.churn[k]
	c.churn = slices.Delete(c.churn, k, k+1)
	c.mu.Unlock()
	id := dataset.VideoID(i)
	if err := c.update(ctx, func(tx tree.Tx) error { return tx.DeleteVideos(ctx, []string{id}) }); err != nil {
		return fmt.Errorf("delete video %s: %w", id, err)
	}
	c.mu.Lock()
	c.rep.Applied.Deletes++
	c.mu.Unlock()
	return nil
}

// ruleChange adds a personal grant or denial for a churn user (even n) or
// removes the oldest one it added (odd n, when there is one).
func (c *changeStream) ruleChange(ctx context.Context, n int) error {
	c.mu.Lock()
	if n%2 == 1 && len(c.rules) > 0 {
		id := c.rules[0]
		c.rules = c.rules[1:]
		c.mu.Unlock()
		v, err := c.st.RemoveRule(ctx, id)
		if err != nil {
			return fmt.Errorf("remove rule %d: %w", id, err)
		}
		if err := c.ann.Publish(ctx, library.VersionEntitlement, v); err != nil {
			return err
		}
		c.mu.Lock()
		c.rep.Applied.RulesRemoved++
		c.mu.Unlock()
		return nil
	}
	churnUsers := c.churnUsers
	if churnUsers == 0 {
		c.mu.Unlock()
		return errors.New("no churn user to name in a rule")
	}
	var r entitle.Rule
	for {
		u := c.userIDs[len(c.userIDs)-1-c.r.intn(churnUsers)]
		t := entitle.Target{Kind: entitle.FolderTarget, ID: dataset.FolderID(c.r.intn(c.folders))}
		if c.r.intn(10) < 3 {
			t = entitle.Target{Kind: entitle.VideoTarget, ID: dataset.VideoID(c.r.intn(c.videos))}
		}
		r = entitle.Rule{Subject: entitle.Subject{Kind: entitle.User, Name: u}, Target: t, Effect: entitle.Allow, CreatedBy: "bench"}
		if c.r.intn(10) < 3 {
			r.Effect = entitle.Deny
		}
		if k := ruleKey(entitle.User, u, t); !c.ruleKeys[k] {
			c.ruleKeys[k] = true
			break
		}
	}
	c.mu.Unlock()
	stored, v, err := c.st.AddRule(ctx, r)
	if err != nil {
		return fmt.Errorf("add rule: %w", err)
	}
	if err := c.ann.Publish(ctx, library.VersionEntitlement, v); err != nil {
		return err
	}
	c.mu.Lock()
	c.rules = append(c.rules, stored.ID)
	c.rep.Applied.RulesAdded++
	c.mu.Unlock()
	return nil
}

// rngSource is splitmix64 (the stream's choices, by seed).
type rngSource struct{ state uint64 }

func (r *rngSource) intn(n int) int {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return int((z ^ (z >> 31)) % uint64(n))
}

// writeText prints the report.
func (r *changeReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "change stream: applied %d/%d edits, %d/%d moves, %d/%d deletes, %d/%d rules added, %d/%d removed (applied/due); %d failed; %v per change written and announced\n",
		r.Applied.Edits, r.Due.Edits, r.Applied.Moves, r.Due.Moves, r.Applied.Deletes, r.Due.Deletes,
		r.Applied.RulesAdded, r.Due.RulesAdded, r.Applied.RulesRemoved, r.Due.RulesRemoved, r.Failed, r.Write)
	if r.FirstError != "" {
		fmt.Fprintf(w, "change stream: first error: %s\n", r.FirstError)
	}
	if r.Probed > 0 {
		fmt.Fprintf(w, "edit visible through GET /videos/{id}: %d of %d probed edits seen within %v; p50 %v p90 %v max %v\n",
			r.Seen, r.Probed, probeTimeout, r.VisibleP50.Round(time.Millisecond), r.VisibleP90.Round(time.Millisecond), r.VisibleMax.Round(time.Millisecond))
	}
}
