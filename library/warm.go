package library

import (
	"sync"
	"time"
)

// warmRest is how many times a warm search build's own duration the warmer
// rests before it builds again: under a steady stream of content changes it
// builds at most a fifth of the time, whatever the rate of changes.
const warmRest = 4

// maxWarmRest caps the rest between two warm builds.
const maxWarmRest = 30 * time.Second

// searchWarmer builds the search index of the served content generation in
// the background (Options.WarmSearch), one build at a time and always of the
// newest generation: changes that land while it builds or rests coalesce
// into one more build; a build tokenizes on half the cores at most. A search on a generation that is not warm yet builds
// its index itself (content_.searchIndex), as without WarmSearch.
type searchWarmer struct {
	mu      sync.Mutex
	running bool
	again   bool
}

// warmSearch asks for the served generation's search index to be built.
func (s *Service) warmSearch() {
	if !s.opts.WarmSearch {
		return
	}
	w := &s.warmer
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		w.again = true
		return
	}
	w.running = true
	go s.warmLoop()
}

func (s *Service) warmLoop() {
	w := &s.warmer
	for {
		start := time.Now()
		s.cur.Load().searchIndexBuilt(true)
		rest := min(warmRest*time.Since(start), maxWarmRest)
		w.mu.Lock()
		if !w.again {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.again = false
		w.mu.Unlock()
		time.Sleep(rest)
	}
}
