// Package build turns a source artifact and a Kustomization spec into
// Kubernetes objects, as Flux's kustomize-controller does, in memory:
//
//   - LoadArchive reads a tar.gz artifact into an in-memory file system,
//     with the safety rules of pkg/artifact (no escaping paths or links,
//     size caps).
//   - Build runs kustomize (krusty, builtin transformers only) at
//     spec.path, generating a kustomization.yaml for plain manifests and
//     layering the spec's fields (targetNamespace, namePrefix, patches,
//     images, components, ...) onto it the way Flux edits that file.
//   - With Options.Decryptor, SOPS-encrypted resource files and
//     secretGenerator sources are decrypted in the in-memory file system
//     before kustomize reads them (the decryption itself is
//     pkg/kustomize/decrypt's).
//   - With Options.AllowRemoteBases, git repositories and http(s) files
//     that kustomizations name are fetched before kustomize runs (pkg/git,
//     anonymous, shallow, in a temporary directory removed at once; the
//     network policy of the context; size and time caps) and copied into
//     the in-memory file system, so kustomize never fetches anything.
//   - Substitute performs post-build variable substitution (${var} and the
//     bash-style forms Flux supports) with a small parser of our own.
//
// The package does not depend on the reconcilers; they call it.
package build
