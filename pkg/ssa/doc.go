// Package ssa applies, prunes, diffs and health-checks sets of Kubernetes
// objects with server-side apply, for the Kustomization (and later the
// HelmRelease) workers.
//
// It is built for many small applies on few cores: in steady state applying
// an object costs exactly one request, the apply PATCH itself. The Manager
// remembers the resourceVersion it last saw for every object and sends it
// with the apply as a precondition, so
//
//   - an unchanged object comes back with the same resourceVersion
//     (Action "unchanged") and a changed manifest with a new one
//     ("configured"), with no dry-run and no GET;
//   - an object somebody else changed since (drift, an in-cluster
//     kustomize.toolkit.fluxcd.io/reconcile: disabled, a kubectl edit) fails
//     the precondition with 409 Conflict, and only then is it read, its
//     in-cluster annotations checked and the apply repeated;
//   - an object the Manager has never seen (first apply after a restart, or a
//     new object) is read once before its first apply.
//
// Objects are applied in stages so that definitions exist before their
// users: first CustomResourceDefinitions, Namespaces and ClusterRoles (then
// the CRDs are waited for until Established and the REST mapper is reset if
// any CRD changed), second the kinds whose name ends in "Class"
// (StorageClass, IngressClass, GatewayClass, ...), last everything else in
// the given order.
//
// Health is kstatus's (CheckReady, WaitForReady), except for the objects a
// caller's StatusFunc knows: a Kustomization's healthCheckExprs, evaluated
// by pkg/celhealth.
//
// Secret values never appear in errors or diffs: API errors about Secrets are
// reduced to their reason and field paths, and Secret data is masked in
// diffs.
package ssa
