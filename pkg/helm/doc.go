// Package helm is the Helm engine of the source workers, built on the Helm
// SDK (helm.sh/helm/v4). It knows no API types of this server.
//
//   - Repository reads an HTTP/S chart repository: FetchIndex downloads
//     index.yaml and loads it with the SDK (repo.IndexFile), FetchChart
//     downloads a chart and checks it against the index's digest.
//     SelectVersion picks a version with the SDK's IndexFile.Get; Revision is
//     Flux's digest of the sorted index.
//   - Registry pulls charts from OCI registries with the SDK's registry
//     client: ResolveVersion matches a semver range against the tag list,
//     Pull fetches <repository>/<chart>:<version>.
//   - BuildDir packages a chart directory as Flux's HelmChart worker does:
//     loaded by the SDK's loader (honouring .helmignore), dependencies that
//     are not vendored in charts/ built by the SDK's downloader.Manager,
//     values files merged, the version stamped, and the chart saved with the
//     SDK's chartutil.Save. BuildArchive does the same for a packaged chart.
//
// What callers can rely on:
//   - Same chart, same bytes: Package stamps every time to the Unix epoch and
//     orders dependencies by name, so equal files give an equal digest.
//   - Network: every connection is made by netguard.DialContext with the
//     caller's context, so a netguard.Guard in it applies (the SDK's own HTTP
//     clients take no context; see transport.go). Downloads are capped
//     (index.yaml at DefaultMaxIndexSize unless set lower) while they are
//     read, never after.
//   - Credentials go only to the host of the repository they belong to,
//     unless PassCredentials; errors never carry them (URLs are shown without
//     user info and query).
//   - The server's own Helm and registry config and cache are never used:
//     the SDK gets a private temporary home per build, removed after, and
//     registry credentials come only from the caller. (The SDK's registry
//     client still loads ~/.docker/config.json when it is made; it is never
//     consulted.)
//   - Paths from users (values files, file:// dependencies) never leave the
//     source root (ErrUnsafePath).
package helm
