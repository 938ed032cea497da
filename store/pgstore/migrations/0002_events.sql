-- Events: indexes for the outbox relay, dead-letter and provider-event listings.

-- The relay hands out a row only when no older unsent row of the same key is
-- left outside its batch; this makes that check an index probe.
CREATE INDEX outbox_unsent_key_idx ON outbox (key, id) WHERE sent_at IS NULL;

-- Admin listings, newest first, filtered by status or topic.
CREATE INDEX dead_letters_status_id_idx ON dead_letters (status, id DESC);
CREATE INDEX dead_letters_topic_id_idx ON dead_letters (topic, id DESC);
CREATE INDEX provider_events_status_id_idx ON provider_events (status, id DESC);
CREATE INDEX provider_events_provider_id_idx ON provider_events (provider, id DESC);
CREATE INDEX dead_letters_event_id_idx ON dead_letters (event_id);
