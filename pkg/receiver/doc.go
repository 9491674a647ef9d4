// Package receiver serves the webhook side of Flux's notification-controller
// Receivers: it authenticates an incoming POST /hook/<digest> request the way
// Flux does for the Receiver's spec.type and, when it passes, calls a trigger
// that asks for reconciliations.
//
// The package knows no API types of this module. Callers describe one Receiver
// object with the Receiver struct (namespace, name, spec.type, the "token" of
// its Secret and spec.events) and give Handler two functions:
//
//   - Lookup returns the current Receiver at a webhook path (WebhookPath
//     computes Flux's path from token, name and namespace). Callers decide
//     there whether a suspended or not-ready Receiver is found.
//   - Trigger is called at most once per request, after it was verified, with
//     the request body (for spec.resourceFilter CEL); it annotates resources.
//
// Verify holds every per-type rule and is what Handler uses; CheckType tells a
// reconciler, before any request arrives, that a type cannot be served (gcr:
// Flux verifies a Google-signed JWT online, which this package does not do).
//
// Outcomes and HTTP answers:
//
//   - method other than POST: 405; unknown path: 404;
//   - body larger than Handler.MaxBodyBytes (1 MiB by default): 413;
//   - bad or missing token or signature (ErrUnauthorized): 401;
//   - payload the type requires but cannot decode (ErrInvalidPayload): 400;
//   - type not served (ErrUnsupported): 501;
//   - event type not in spec.events, or a GitHub "ping" (ErrIgnoredEvent): 200,
//     nothing triggered. Flux answers 400 for filtered events; we answer 200
//     because the request is authentic and 4xx answers make GitLab disable the
//     hook and GitHub report failed deliveries;
//   - more verified requests for one Receiver than its token bucket allows
//     (Handler.RatePerMinute, Handler.Burst): 429 with Retry-After;
//   - Trigger failed: 500; otherwise 200.
//
// Only verified requests consume the rate limit, so a caller that does not
// know the token cannot starve the real sender. Nothing is triggered on any
// failure. Each request is logged once with the Receiver, the type, the event
// and the answer; payloads, tokens and signatures are never logged and never
// appear in errors.
package receiver
