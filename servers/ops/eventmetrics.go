package ops

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
)

// ScrapeTimeout bounds each read of a scrape-time source (a broker's offsets,
// a count in the store). A source that does not answer in time is counted in
// vidlib_scrape_errors_total and left out of that scrape.
const ScrapeTimeout = 5 * time.Second

// ObserveConsumer returns an events.Observe function (for
// syncworker.ConsumerOptions.Observe) that counts the messages of consumer
// group by topic and result in vidlib_consumer_messages_total — ok, retry
// (the handler failed; the bus delivers it again), dead_letter, duplicate,
// skipped (a type the consumer passes over: events.OnlyTypes) — and every
// dead-lettered message in vidlib_dead_letters_total{topic}.
func (m *Metrics) ObserveConsumer(group string) func(events.Observation) {
	return func(o events.Observation) {
		result := "ok"
		switch o.Outcome {
		case events.OutcomeFailed:
			result = "retry"
		case events.OutcomeDeadLettered:
			result = "dead_letter"
			m.DeadLetters.WithLabelValues(o.Topic).Inc()
		case events.OutcomeDuplicate:
			result = "duplicate"
		case events.OutcomeSkipped:
			result = "skipped"
		}
		m.ConsumerMessages.WithLabelValues(group, o.Topic, result).Inc()
	}
}

// LagReader reads a consumer group's lag per topic and partition:
// kafkabus.Bus and membus.Bus implement it.
type LagReader interface {
	Lag(ctx context.Context, group string, topics ...string) (map[string]map[int]int64, error)
}

// ConsumerGroup is a consumer group and the topics it consumes.
type ConsumerGroup struct {
	Group  string
	Topics []string
}

// WatchConsumerLag registers vidlib_consumer_lag_messages{group,topic}: at
// each scrape, r is asked for every group's lag (concurrently, each within
// ScrapeTimeout), summed over the topic's partitions. A group whose read
// fails is left out of that scrape and counted in
// vidlib_scrape_errors_total{source="consumer_lag"}. Register the groups this
// process runs, in one call.
func (m *Metrics) WatchConsumerLag(r LagReader, groups ...ConsumerGroup) error {
	return m.Registry.Register(&lagCollector{m: m, r: r, groups: groups})
}

var lagDesc = prometheus.NewDesc(Namespace+"_consumer_lag_messages",
	"Messages a consumer group has not committed yet, summed over the topic's partitions.",
	[]string{"group", "topic"}, nil)

type lagCollector struct {
	m      *Metrics
	r      LagReader
	groups []ConsumerGroup
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- lagDesc }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, g := range c.groups {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
			defer cancel()
			lag, err := c.r.Lag(ctx, g.Group, g.Topics...)
			if err != nil {
				c.m.scrapeFailed("consumer_lag", err, zap.String("group", g.Group))
				return
			}
			for _, topic := range g.Topics {
				var sum int64
				for _, n := range lag[topic] {
					sum += n
				}
				ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(sum), g.Group, topic)
			}
		})
	}
	wg.Wait()
}

// WatchDeadLettersOpen registers vidlib_dead_letters_open, counted in c at
// each scrape (within ScrapeTimeout): dead letters waiting for an admin,
// neither replayed nor ignored. A failed count is left out of that scrape and
// counted in vidlib_scrape_errors_total{source="dead_letters_open"}.
func (m *Metrics) WatchDeadLettersOpen(c events.DeadLetterCounter) error {
	return m.Registry.Register(&deadOpenCollector{m: m, c: c})
}

var deadOpenDesc = prometheus.NewDesc(Namespace+"_dead_letters_open",
	"Dead letters waiting for an admin (neither replayed nor ignored).", nil, nil)

type deadOpenCollector struct {
	m *Metrics
	c events.DeadLetterCounter
}

func (d *deadOpenCollector) Describe(ch chan<- *prometheus.Desc) { ch <- deadOpenDesc }

func (d *deadOpenCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	n, err := d.c.CountDeadLetters(ctx, events.DeadLetterOpen)
	if err != nil {
		d.m.scrapeFailed("dead_letters_open", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(deadOpenDesc, prometheus.GaugeValue, float64(n))
}

// scrapeFailed counts and logs a scrape-time source that failed.
func (m *Metrics) scrapeFailed(source string, err error, fields ...zap.Field) {
	m.ScrapeErrors.WithLabelValues(source).Inc()
	m.log.Warn("metrics source failed; left out of this scrape", append(fields, zap.String("source", source), zap.Error(err))...)
}
