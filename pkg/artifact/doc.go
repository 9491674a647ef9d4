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
//     with atomic writes and garbage collection.
//
// The package depends on nothing else in this module, so a different backend
// (S3, OCI) can sit behind the same small interface in the callers.
package artifact
