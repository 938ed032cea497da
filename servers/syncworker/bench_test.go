package syncworker_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vidlib/vidlib/vimeo"
)

// BenchmarkWebhookFreshness measures the time from a video edit in the fake
// Vimeo account to the change being visible in PostgreSQL, through the
// webhook (fake emitter → intake → vimeo.webhooks.raw → normaliser →
// vimeo.sync.normalized → applier → Mirror.RefreshVideo → PostgreSQL), and
// reports its percentiles. The target is p95 ≤ 1 s.
//
//	go test -run '^$' -bench WebhookFreshness -benchtime 200x ./servers/syncworker/
func BenchmarkWebhookFreshness(b *testing.B) {
	for _, bc := range busCases {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			w := startWorld(b, bc.open(b), 60)
			inside, _ := w.videos(b)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				v := inside[i%len(inside)]
				id := strconv.FormatInt(v, 10)
				title := fmt.Sprintf("edit %d", i)
				// One second of the account's clock per edit: Vimeo's
				// timestamps have second precision, and the idempotency key
				// includes them.
				w.clock.Advance(time.Second)
				start := time.Now()
				if err := w.acct.RenameVideo(v, title); err != nil {
					b.Fatal(err)
				}
				w.flush(b)
				for {
					if got, _ := w.mirroredTitle(ctx, id); got == title {
						break
					}
					time.Sleep(100 * time.Microsecond)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}

// BenchmarkIntake measures the webhook answer: verify, insert into
// provider_events (PostgreSQL), publish to vimeo.webhooks.raw (acks=all on
// Kafka), audit row in the outbox.
//
//	go test -run '^$' -bench Intake -benchtime 500x ./servers/syncworker/
func BenchmarkIntake(b *testing.B) {
	for _, bc := range busCases {
		b.Run(bc.name, func(b *testing.B) {
			in := newIntake(b, storeCases[1].open(b), bc.open(b))
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				body := webhookBody("video-updated", strconv.Itoa(i+1), now)
				sig := vimeo.Sign(secret, body, vimeo.EncodingHex)
				start := time.Now()
				w := post(b, in, body, sig)
				lat = append(lat, time.Since(start))
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
		})
	}
}
