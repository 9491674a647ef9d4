// Package celhealth evaluates Flux's Common Expression Language (CEL)
// expressions about Kubernetes objects: the health check expressions of a
// Kustomization or HelmRelease (spec.healthCheckExprs) and the readiness
// expressions of a dependency (spec.dependsOn[].readyExpr). It knows no API
// types of ours: callers pass expressions as strings and objects as
// unstructured maps.
//
// Health check expressions (Checks) follow Flux's kustomize-controller:
//
//   - An entry applies to the objects of its apiVersion's group and its
//     kind, whatever their version; an entry without a kind applies to every
//     kind of the group, after the entries that name the kind. Two entries
//     for the same group and kind are an error.
//   - The object's top-level fields are the variables: `status.conditions`,
//     `metadata.generation`, `data.ready` (a ConfigMap). A field the object
//     does not have is an evaluation error, not false; guard with has() or
//     optional selection (`status.?phase.orValue("")`).
//   - An object whose status.observedGeneration is not its
//     metadata.generation is InProgress without evaluating anything. Then
//     inProgress (when set), failed (when set) and current are evaluated in
//     that order, and the first that is true gives InProgress, Failed or
//     Current; when none is true the object is InProgress. An evaluation
//     error makes the object Unknown with the error as message (for a
//     Secret, without it: errors may quote values), so a wait goes on until
//     its timeout, as in Flux.
//   - Expressions are parsed, not type-checked, since the object's schema
//     is unknown, as in Flux; calls of functions that do not exist are
//     refused when compiling all the same, so typos fail early.
//
// A readiness expression (ReadyExpr) sees the dependent object as `self`
// and the dependency as `dep` and must yield a bool; it is type-checked.
//
// Both have the same functions as Flux's (cel-go's standard library,
// optional types, and the strings, sets and encoders extensions) plus
// Kubernetes' list and regex libraries (isSorted, sum, indexOf, find,
// findAll, ...). Every evaluation is bounded by a cost limit, so an
// expression over a large object, or a deliberately expensive one, ends
// with an error instead of holding a worker.
package celhealth
