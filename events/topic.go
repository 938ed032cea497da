package events

import "strings"

// The topics of the specification. Their names are fixed; a deployment that
// shares a Kafka cluster separates itself with the buses' TopicPrefix option,
// never by renaming.
const (
	TopicVimeoWebhooksRaw     = "vimeo.webhooks.raw"    // raw provider events, as received
	TopicVimeoSyncNormalized  = "vimeo.sync.normalized" // normalised sync actions ("re-fetch video X")
	TopicAnalytics            = "analytics.events"      // watch and chat events
	TopicAudit                = "audit.events"          // operational and security audit
	TopicRankingFeatures      = "ranking.features"      // ranking input events
	TopicRankingUpdated       = "ranking.updated"       // new ranking outputs
	TopicDeadLettersVimeo     = "deadletters.vimeo"     // failed sync events
	TopicDeadLettersAnalytics = "deadletters.analytics" // failed analytics and ranking events

	// TopicDeadLettersAudit is not in the specification: vidlib adds it so that
	// a failed audit event is neither mixed with analytics failures nor lost.
	// Audit is security-relevant and read by different people.
	TopicDeadLettersAudit = "deadletters.audit"
)

const deadLetterPrefix = "deadletters."

// Topics returns every topic vidlib uses, dead-letter topics included, in a
// fixed order (for provisioning).
func Topics() []string {
	return []string{
		TopicVimeoWebhooksRaw, TopicVimeoSyncNormalized, TopicAnalytics, TopicAudit,
		TopicRankingFeatures, TopicRankingUpdated,
		TopicDeadLettersVimeo, TopicDeadLettersAnalytics, TopicDeadLettersAudit,
	}
}

// IsDeadLetterTopic reports whether topic holds dead letters.
func IsDeadLetterTopic(topic string) bool { return strings.HasPrefix(topic, deadLetterPrefix) }

// DeadLetterTopic returns the topic where messages of topic go when they cannot
// be processed:
//
//	vimeo.*                  → deadletters.vimeo
//	analytics.*, ranking.*   → deadletters.analytics
//	audit.*                  → deadletters.audit
//	deadletters.*            → "" (a dead letter is never dead-lettered again;
//	                            it is recorded in the dead_letters table only)
//	anything else            → "deadletters." + topic
func DeadLetterTopic(topic string) string {
	switch first, _, _ := strings.Cut(topic, "."); first {
	case "vimeo":
		return TopicDeadLettersVimeo
	case "analytics", "ranking":
		return TopicDeadLettersAnalytics
	case "audit":
		return TopicDeadLettersAudit
	case "deadletters":
		return ""
	}
	return deadLetterPrefix + topic
}
