// Package syncworker is the sync process: it keeps the PostgreSQL mirror
// (tree.Mirror) aligned with Vimeo through the three change signals of
// ARCHITECTURE.md §3.1 — App Webhooks, the recent-changes poll and the full
// reconciliation — and runs the outbox relay that publishes what the mirror
// commits. Every part has a plain constructor (New…(required, *Options));
// Module composes them for fx, and Worker runs their loops without it.
//
// # Webhooks
//
//	Vimeo ──POST──▶ Intake ──▶ provider_events (unique key)
//	                   └──────▶ vimeo.webhooks.raw   (EventWebhookReceived)
//	                              └─▶ Normalizer ──▶ vimeo.sync.normalized (EventVideoRefetch, key = video id)
//	                                                   └─▶ Applier ──▶ Mirror.RefreshVideo ──▶ PostgreSQL (+ outbox)
//
// Intake (an http.Handler, mounted at WebhookPath) reads at most MaxBody
// (1 MiB; 413 beyond), verifies the HMAC signature and the timestamp window
// with vimeo.WebhookVerifier (401 for a missing or wrong signature and for a
// stale or future timestamp), parses the payload (400 when it is not one),
// stores the raw body in provider_events under the idempotency key
// events.ProviderEventKey("vimeo", video id, webhook type, timestamp), and
// publishes the event to vimeo.webhooks.raw before it answers 200. Errors are
// JSON, {"error":{"code","message"}}. A rejected request changes nothing: no
// provider_events row, nothing published; it is logged and audited (an
// audit.Record with action webhook.rejected written to the outbox for
// audit.events, rate-limited so that a flood of forged requests cannot flood
// the audit log). An accepted webhook is audited too (webhook.received).
//
// Why publish directly rather than through the outbox: nothing is accepted
// (answered 2xx) before it is both in provider_events and acknowledged by the
// broker (acks=all), so what Vimeo was told we have is durable twice. If the
// publish fails the intake answers 503 and Vimeo delivers again; the
// redelivery finds the stored row still "received" and publishes it then. A
// duplicate whose row the normaliser already processed is answered 200 and
// published no more. Writing the raw event to the outbox in the provider_events
// transaction would also be safe, but the stores' RecordProviderEvent has no
// transaction to share, and the relay's poll would add its interval to every
// webhook's path; the direct publish costs about 2 ms on Kafka
// (BenchmarkIntake). The remaining gap — stored, the publish failed, and Vimeo
// never delivers again — is closed by Intake.Redrive, which Module runs every
// minute: a "received" row older than two minutes is published again, or
// marked processed when the normaliser's ledger shows it was handled.
//
// The Normalizer consumes vimeo.webhooks.raw: for a webhook about a video it
// publishes "re-fetch video X" (EventVideoRefetch) to vimeo.sync.normalized,
// keyed by the video id, then marks the provider event processed; webhooks
// about no video are only marked processed. It deduplicates by the provider
// event key (events.Dedup on processed_events), so a webhook delivered twice
// is normalised once. Webhook payloads are hints, never truth.
//
// The key's timestamp has Vimeo's one-second precision: two edits of one
// video with the same webhook type within a second share a key, and the second
// delivery is a duplicate. If the refetch of the first read the video before
// the second edit, the poll (within its interval) or the next reconciliation
// brings it.
//
// The Applier consumes vimeo.sync.normalized, passes over every other event
// type there (the mirror's change events and the admin commands share the
// topic) before dedup, retry and tracing (events.OnlyTypes: they cost it a
// decode, no processed_events row), and calls
// Mirror.RefreshVideo, which re-reads the video from Vimeo and applies it in
// one transaction (a video outside the mirrored root changes nothing). It
// deduplicates by the webhook's key. Both consumers use the standard
// middleware: a failure is retried with exponential backoff (RetryPolicy),
// then recorded in dead_letters and published to deadletters.vimeo, from where
// events.Replayer replays it; a panic is a failure like any other.
//
// # Admin commands
//
// An admin service without a mirror of its own (vidlib admin in a split
// deployment) sends its reconciliations and held decisions here as commands:
// EventSyncCommand ("vimeo.sync.command") envelopes on vimeo.sync.normalized,
// all keyed CommandKey so that they are carried out one after the other in
// the order given, with a Command as data (action reconcile.root,
// reconcile.folder, reconcile.video, held.approve or held.reject; the folder
// or video id or the run id; the admin actor, the request id, a note).
// Commands, a consumer group of its own (GroupCommands) run with the other
// consumers, carries them out: root and folder reconciliations and approvals
// (which re-run the reconciliation) take the Scheduler's lock first, so they
// never run beside a scheduled one on any worker; a lock held elsewhere is
// retried with backoff, then dead-lettered like any failure (an admin can
// replay it). A video refresh and a rejection take no lock. Each command
// runs once per event id (the dedup ledger) and is audited as the admin's
// action with its outcome, the request id and the command id (an
// audit.Record written to the outbox). A separate group rather than the
// Applier keeps a long reconciliation from holding up webhook refetches.
//
// # Poll and reconciliation
//
// PollLoop calls Mirror.Poll every 30 s (jittered); the mirror persists its
// watermark with the changes it applies. Scheduler reconciles every 6 h
// (jittered), once at start-up when the mirror is empty, when an admin calls
// Reconcile, and when a poll or a refresh reports that it saw more than it
// could apply (Request; at most once per MinRequestGap). Every run takes a
// lock first: with store/pgstore a session-level PostgreSQL advisory lock on a
// connection of its own (pgstore.Store.TryLock), with store/memstore an
// in-process one, so two workers on one database never reconcile at once.
// A run that finds the lock held is skipped (schedule) or refused with ErrBusy
// (admin). The poll takes a lock of its own, so several workers do not poll
// together.
//
// # Lifecycle
//
// Worker starts the consumers, the poll loop, the scheduler and the outbox
// relay (events.Relay) in Start and stops them in Stop: first the consumers
// and loops (a running reconciliation is cancelled; a partial walk never
// deletes; subscriptions drain their handlers in flight), then the relay.
// Stop returns when they have all returned or when its context ends, whichever
// comes first. A loop that fails is restarted after a growing pause.
//
// # Errors and concurrency
//
// ErrInvalid for a missing dependency or a bad option; ErrBusy when a
// reconciliation is already running. Everything here is safe for concurrent
// use.
package syncworker
