package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseMix(t *testing.T) {
	m, err := ParseMix("home=20, folder=50,video=25,playback=5")
	require.NoError(t, err)
	require.Equal(t, DefaultMix, m)
	require.Equal(t, "home=20,folder=50,video=25,playback=5", m.String())
	m, err = ParseMix("folder=1")
	require.NoError(t, err)
	require.Equal(t, Mix{Folder: 1}, m)
	for _, bad := range []string{"", "home", "home=x", "home=-1", "search=3", "home=0"} {
		_, err := ParseMix(bad)
		require.ErrorIs(t, err, ErrInvalid, bad)
	}
}

func TestWorkloadFollowsTheMixAndTheAudiences(t *testing.T) {
	audiences := []Audience{
		{Folders: []string{"10", "11"}, Videos: []string{"100", "101"}, HiddenFolders: []string{"12"}, HiddenVideos: []string{"102"}},
		{Folders: []string{"20"}, Videos: []string{"200"}}, // no hidden samples: misses use an unknown id
		{}, // sees nothing: every folder/video request is a miss
	}
	users := []User{{Token: "t0", Audience: 0}, {Token: "t1", Audience: 1}, {Token: "t2", Audience: 2}}
	w, err := NewWorkload(users, audiences, &WorkloadOptions{Seed: 7, Misses: 0.1})
	require.NoError(t, err)
	const n = 60_000
	count := map[string]int{}
	misses, asked := 0, 0
	for seq := range uint64(n) {
		r := w.Request(seq)
		require.Equal(t, r, w.Request(seq), "deterministic")
		count[r.Endpoint]++
		var id string
		switch r.Endpoint {
		case EndpointHome:
			require.Equal(t, "/library/home", r.Path)
			require.Zero(t, r.Expect)
			continue
		case EndpointFolder:
			id = strings.TrimPrefix(r.Path, "/folders/")
		case EndpointVideo:
			id = strings.TrimPrefix(r.Path, "/videos/")
		case EndpointPlayback:
			id = strings.TrimSuffix(strings.TrimPrefix(r.Path, "/videos/"), "/playback")
		}
		aud := map[string]int{"t0": 0, "t1": 1, "t2": 2}[r.Token]
		a := audiences[aud]
		visible := append(append([]string{}, a.Folders...), a.Videos...)
		if r.Expect == http.StatusNotFound {
			require.NotContains(t, visible, id, r.Path)
			if aud != 2 {
				misses++
			}
		} else {
			require.Zero(t, r.Expect)
			require.Contains(t, visible, id, "a hit is visible to its user: %s", r.Path)
		}
		if aud != 2 {
			asked++
		}
		if aud == 0 && r.Expect == http.StatusNotFound {
			require.Contains(t, []string{"12", "102"}, id)
		}
		if aud == 1 && r.Expect == http.StatusNotFound {
			require.Equal(t, unknownID, id)
		}
	}
	share := func(e string) float64 { return float64(count[e]) / n }
	require.InDelta(t, 0.20, share(EndpointHome), 0.01)
	require.InDelta(t, 0.50, share(EndpointFolder), 0.01)
	require.InDelta(t, 0.25, share(EndpointVideo), 0.01)
	require.InDelta(t, 0.05, share(EndpointPlayback), 0.01)
	require.InDelta(t, 0.10, float64(misses)/float64(asked), 0.01)

	other, err := NewWorkload(users, audiences, &WorkloadOptions{Seed: 8})
	require.NoError(t, err)
	same := 0
	for seq := range uint64(100) {
		if other.Request(seq) == w.Request(seq) {
			same++
		}
	}
	require.Less(t, same, 50, "another seed, another sequence")
}

func TestNewWorkloadRejectsBadInput(t *testing.T) {
	_, err := NewWorkload(nil, nil, nil)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = NewWorkload([]User{{Audience: 1}}, []Audience{{}}, nil)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = NewWorkload([]User{{}}, []Audience{{}}, &WorkloadOptions{Misses: 2})
	require.ErrorIs(t, err, ErrInvalid)
	_, err = NewWorkload([]User{{}}, []Audience{{}}, &WorkloadOptions{Mix: Mix{Home: -1, Folder: 2}})
	require.ErrorIs(t, err, ErrInvalid)
}

// FindMax raises the rate while steps are good and bisects after the first
// bad one. The stand-in fails every request from the third step on.
func TestFindMaxStepsAndBisects(t *testing.T) {
	srv := standIn(t, nil)
	step := 0
	next := func(seq uint64) Request {
		if seq == 0 {
			step++
		}
		if step >= 3 {
			return Request{Endpoint: "e", Path: "/boom"}
		}
		return Request{Endpoint: "e", Path: "/ok"}
	}
	var seen []float64
	res, err := FindMax(context.Background(), srv.URL, next, Options{Duration: 50 * time.Millisecond},
		&FindMaxOptions{Start: 100, Factor: 2, Limit: 10_000, P99: time.Minute, OnStep: func(s Step) { seen = append(seen, s.Rate) }})
	require.NoError(t, err)
	require.Equal(t, []float64{100, 200, 400, 300, 250}, seen)
	require.InDelta(t, 200.0, res.Rate, 0)
	require.NotNil(t, res.Best)
	require.Equal(t, 200.0, res.Best.Rate)
	require.Len(t, res.Steps, 5)
	require.True(t, res.Steps[1].Good)
	require.False(t, res.Steps[2].Good)
	require.Contains(t, res.Steps[2].Reason, "errors")
}

func TestFindMaxStopsAtTheLatencyBound(t *testing.T) {
	srv := standIn(t, nil)
	next := func(uint64) Request { return Request{Endpoint: "e", Path: "/ok"} }
	res, err := FindMax(context.Background(), srv.URL, next, Options{Duration: 50 * time.Millisecond},
		&FindMaxOptions{Start: 100, Factor: 2, Limit: 200, P99: time.Nanosecond, Refine: -1})
	require.NoError(t, err)
	require.Zero(t, res.Rate, "no step can have a p99 under 1 ns")
	require.Len(t, res.Steps, 1)
	require.Contains(t, res.Steps[0].Reason, "p99")
}

func TestResultReports(t *testing.T) {
	srv := standIn(t, nil)
	next := func(seq uint64) Request {
		if seq%2 == 0 {
			return Request{Endpoint: "folder", Path: "/ok"}
		}
		return Request{Endpoint: "video", Path: "/missing", Expect: http.StatusNotFound}
	}
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 100, Duration: 100 * time.Millisecond})
	require.NoError(t, err)
	var text bytes.Buffer
	require.NoError(t, res.WriteText(&text))
	require.Contains(t, text.String(), "folder")
	require.Contains(t, text.String(), "404:5")
	require.Contains(t, text.String(), "total")
	require.NotContains(t, text.String(), "server pid", "no server was measured")
	res.Server = &Usage{PID: 42, CPU: time.Duration(res.Total.Count) * 1500 * time.Microsecond, Window: time.Second}
	text.Reset()
	require.NoError(t, res.WriteText(&text))
	require.Contains(t, text.String(), "server pid 42:")
	require.Contains(t, text.String(), "1500 µs of CPU per request")
	js, err := json.Marshal(res)
	require.NoError(t, err)
	var back struct {
		Rate      float64 `json:"target_rate"`
		Endpoints []struct {
			Endpoint string           `json:"endpoint"`
			Count    int64            `json:"count"`
			Statuses map[string]int64 `json:"statuses"`
			Latency  map[string]float64
		} `json:"endpoints"`
	}
	require.NoError(t, json.Unmarshal(js, &back))
	require.Equal(t, 100.0, back.Rate)
	require.Len(t, back.Endpoints, 2)
	require.Equal(t, "video", back.Endpoints[1].Endpoint)
	require.EqualValues(t, 5, back.Endpoints[1].Statuses["404"])
	require.Contains(t, back.Endpoints[0].Latency, "p99_ms")
}
