package dataset

import (
	"fmt"
	"testing"
)

// BenchmarkWorkload samples what every audience and named user of a
// 100,000-video library sees (the bench's sampling phase; go test -bench
// Workload -benchtime 1x).
func BenchmarkWorkload(b *testing.B) {
	d, err := Generate(&Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	idx, loaded, err := d.Compile(nil)
	if err != nil {
		b.Fatal(err)
	}
	tokens := make([]string, len(d.Users))
	for i := range tokens {
		tokens[i] = fmt.Sprint(i)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := d.Workload(idx, loaded, tokens, &SampleOptions{Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
