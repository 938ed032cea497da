// Package hubspottest is a fake HubSpot API on httptest, for tests and the
// demo. It follows the real API's behaviour where vidlib depends on it:
//
//   - bearer authentication: a missing or wrong token is 401
//     INVALID_AUTHENTICATION; a token without the scope is 403
//     MISSING_SCOPES with errors[0].context.requiredGranularScopes; an
//     account below Professional gets 403 on visitor identification
//     (Options.BelowProfessional);
//   - visitor identification on all four accepted paths, email validated
//     (400 VALIDATION_ERROR), firstName/lastName/hsCustomerAgentContext
//     recorded, a new JWT-shaped token on every call with its issue time
//     (Tokens);
//   - contacts: PATCH by id or idProperty=email (404 OBJECT_NOT_FOUND),
//     batch upsert by email, create (409 CONFLICT "Contact already exists.
//     Existing ID: N"), string-only values, "" clears, an unknown property
//     is 400 PROPERTY_DOESNT_EXIST with context.propertyName; property
//     definitions (required fields, 409 when one exists);
//   - rate limits: a rolling burst window (Options.Burst per Interval,
//     default 100 per 10 s) and a daily count, the X-HubSpot-RateLimit-*
//     and X-HubSpot-Correlation-Id headers on every answer (or none:
//     OmitRateHeaders), 429 bodies with errorType RATE_LIMIT (or category
//     RATE_LIMITS) and policyName TEN_SECONDLY_ROLLING or DAILY, no
//     Retry-After unless asked;
//   - faults (FailNext, FailAlways): any status with an envelope, slow
//     answers, truncated JSON, an HTML error page.
//
// It counts calls per operation (Calls), 429s and the most requests it
// counted in any window (Stats: above Burst means the client broke the
// limit). A VirtualClock drives the fake and the client together.
package hubspottest
