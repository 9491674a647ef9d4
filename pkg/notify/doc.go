// Package notify sends Flux events to notification providers, with Flux's
// notification-controller payloads and endpoints as the specification: it
// is the engine behind the Provider and Alert objects, and knows none of
// their API types.
//
// New validates an Options value (a Provider's type, address, channel and
// username, its Secret's token, password and headers, its proxy and TLS
// configuration, resolved by the caller) and returns a Notifier for its
// type; Post sends one Event. Types lists the implemented types:
//
//   - webhooks and chat: generic (the Event JSON), generic-hmac (the same,
//     signed in X-Signature), slack (incoming webhook, or chat.postMessage
//     with a bot token), discord (Slack payload to <webhook>/slack), rocket,
//     msteams (Adaptive Card; MessageCard for *.webhook.office.com),
//     googlechat, webex, telegram, lark, matrix;
//   - alerting and observability: opsgenie, pagerduty (Events API v2),
//     datadog, grafana (annotations), alertmanager, sentry (envelope API);
//   - automation: githubdispatch (repository_dispatch), nats (publish on
//     the channel's subject);
//   - Git commit statuses: github, gitlab, gitea, bitbucket,
//     bitbucketserver, azuredevops.
//
// googlepubsub, azureeventhub, otel, githubpullrequestcomment and zulip
// are refused by New with an error wrapping ErrUnsupported.
//
// Commit status types read the commit from the event's revision metadata
// (originRevision first, then revision, in any of Flux's formats), map
// info to success and error to failure, skip Progressing events (Gitea
// sets pending instead), describe the status with the reason in words, and
// key it by Flux's ID "<kind>/<name>/<provider UID prefix>" or by the
// result of Options.CommitStatusExpr, a CEL expression compiled by New
// (variables event, provider and alert, with cel-go's string extensions).
// Events without a revision are skipped without error; so is a status
// equal to the one already on the commit.
//
// HTTP requests honour Post's context, Options.Timeout (15s by default),
// Options.ProxyURL (else the environment's proxy settings),
// Options.TLSConfig and Options.DialContext (the caller's network guard).
// Post does not retry: the caller decides. Redirects are followed within
// the endpoint's host only. Each Notifier pools its own connections (idle
// ones close after 30s): keep one per Provider rather than one per event.
// A status outside 2xx is an error quoting the status and at most 200
// characters of the answer. Errors name the provider type, the operation
// and the host, never the URL path or query, and every secret value
// (token, password, header values, URL credentials, query values and long
// webhook path segments) is replaced by "***".
package notify
