package loadgen

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the result as a table: one row per endpoint and a total,
// then the send lag and the server's usage.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "endpoint\tcount\terrors\tp50\tp95\tp99\tp99.9\tmax\trate/s\tstatuses\t\n")
	for _, s := range append(slices.Clone(r.Endpoints), r.Total) {
		l := s.Latency
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.0f\t%s\t\n", s.Endpoint, s.Count, s.Errors,
			ms(l.P50), ms(l.P95), ms(l.P99), ms(l.P999), ms(l.Max), s.Throughput, statuses(s.Statuses))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	sv := r.Total.Service
	_, err := fmt.Fprintf(w, "target %.0f/s for %v; latency counts from each request's intended send time.\n"+
		"service time (from actual send): p50 %s p99 %s max %s; send lag: p50 %s p99 %s max %s\n",
		r.Rate, r.Duration, ms(sv.P50), ms(sv.P99), ms(sv.Max), ms(r.Lag.P50), ms(r.Lag.P99), ms(r.Lag.Max))
	if err != nil {
		return err
	}
	if u := r.Server; u != nil {
		perRequest := ""
		if r.Total.Count > 0 {
			perRequest = fmt.Sprintf(", %.0f µs of CPU per request", float64(u.CPU.Microseconds())/float64(r.Total.Count))
		}
		_, err = fmt.Fprintf(w, "server pid %d: CPU %.2f s in %.1f s (%.2f cores%s), peak RSS %s (high water %s)\n",
			u.PID, u.CPU.Seconds(), u.Window.Seconds(), u.Cores(), perRequest, mib(u.PeakRSS), mib(u.HighWater))
	}
	return err
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func statuses(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
