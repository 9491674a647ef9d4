// Package artifact builds, stores and unpacks source artifacts: the
// deterministic tar.gz archives that the source workers make from a fetched
// tree (a Git checkout, a bucket, an OCI layer) and that appliers read back.
//
//   - Archive writes a tree as a reproducible tar.gz, honouring Flux's ignore
//     rules (default exclusions, .sourceignore files and spec.ignore) and
//     refusing symlinks that leave the tree.
//   - Extract unpacks a tar.gz into a directory and never writes outside it,
//     whatever the archive holds; size and entry-count caps stop gzip bombs.
//   - Store keeps archives content-addressed on local disk, a few per object,
//     with atomic writes and garbage collection; Usage measures it and
//     StoreCollector reports that as metrics (gotk_artifact_store_*).
//   - Fetcher downloads artifacts other servers publish (ExternalArtifacts:
//     an http(s) URL and a digest) with Download's caps, refuses any whose
//     content does not match the digest, and caches them on disk by object
//     and digest, within a size bound.
//
// The package depends on nothing else in this module, so a different backend
// (S3, OCI) can sit behind the same small interface in the callers.
package artifact
