package main

import (
	"fmt"
	"strings"
)

// The workloads (-workload).
const (
	workloadKustomization = "kustomization"
	workloadHelmRelease   = "helmrelease"
)

// workloadKinds names a workload's objects, for logs and the report.
type workloadKinds struct {
	// appliers are what phase 1 waits for, sources what make their
	// artifacts (one per app).
	appliers, sources string
	// title heads the report.
	title string
}

func kinds(workload string) workloadKinds {
	if workload == workloadHelmRelease {
		return workloadKinds{appliers: "HelmReleases", sources: "HelmCharts", title: "HelmRelease benchmark"}
	}
	return workloadKinds{appliers: "Kustomizations", sources: "GitRepositories", title: "Kustomization benchmark"}
}

// fluxNamespace holds every GitRepository and Kustomization of the workload;
// app i is GitRepository and Kustomization "app-i" there, applying to the
// namespace "bench-i".
const fluxNamespace = "flux-system"

func appName(i int) string        { return fmt.Sprintf("app-%d", i) }
func benchNamespace(i int) string { return fmt.Sprintf("bench-%d", i) }

// appFiles is the app at path ./app of the repository; version goes into the
// ConfigMap, so each new version changes every app.
func appFiles(version int) map[string]string {
	docs := appDocs(version, "", "")
	return map[string]string{
		"app/deployment.yaml":     docs[0],
		"app/service.yaml":        docs[1],
		"app/serviceaccount.yaml": docs[2],
		"app/configmap.yaml":      docs[3],
	}
}

// appDocs renders the app's four objects. With ns set they are what a
// Kustomization "owner" in flux-system applies there: the namespace set and
// Flux's ownership labels, so the reference writes objects of the same size.
func appDocs(version int, ns, owner string) []string {
	return appDocsWith(version, func(name string) string {
		m := "metadata:\n  name: " + name + "\n"
		if ns != "" {
			m += "  namespace: " + ns + "\n"
			m += "  labels:\n"
			m += "    kustomize.toolkit.fluxcd.io/name: " + owner + "\n"
			m += "    kustomize.toolkit.fluxcd.io/namespace: " + fluxNamespace + "\n"
		}
		return m
	})
}

// appDocsWith renders the app's four objects with meta(name) as each one's
// metadata block.
func appDocsWith(version int, meta func(name string) string) []string {
	return []string{
		"apiVersion: apps/v1\nkind: Deployment\n" + meta("web") + `spec:
  replicas: 0
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: ghcr.io/stefanprodan/podinfo:6.5.0
        ports:
        - containerPort: 9898
`,
		"apiVersion: v1\nkind: Service\n" + meta("web") + `spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 9898
`,
		"apiVersion: v1\nkind: ServiceAccount\n" + meta("web"),
		"apiVersion: v1\nkind: ConfigMap\n" + meta("web-config") + fmt.Sprintf(`data:
  greeting: hello
  version: "%d"
`, version),
	}
}

// namespaces renders Namespace objects.
func namespaces(names []string) string {
	docs := make([]string, 0, len(names))
	for _, n := range names {
		docs = append(docs, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+n+"\n")
	}
	return strings.Join(docs, "---\n")
}

// gitRepository renders app i's GitRepository.
func gitRepository(i int, url, interval string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: %s
  namespace: %s
spec:
  interval: %s
  url: %s
  ref:
    branch: main
`, appName(i), fluxNamespace, interval, url)
}

// kustomization renders app i's Kustomization.
func kustomization(i int) string { return kustomizationAt(i, "10m") }

// kustomizationAt renders app i's Kustomization with another interval.
func kustomizationAt(i int, interval string) string {
	return fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: %s
spec:
  interval: %s
  path: ./app
  prune: true
  wait: false
  targetNamespace: %s
  sourceRef:
    kind: GitRepository
    name: %s
`, appName(i), fluxNamespace, interval, benchNamespace(i), appName(i))
}

// kustomizationWorkload renders the N GitRepositories and N Kustomizations
// sent at t0.
func kustomizationWorkload(n int, url string) string {
	docs := make([]string, 0, 2*n)
	for i := 0; i < n; i++ {
		docs = append(docs, gitRepository(i, url, "10m"))
	}
	for i := 0; i < n; i++ {
		docs = append(docs, kustomization(i))
	}
	return strings.Join(docs, "---\n")
}

// gitRepositoryDocs renders the N GitRepositories with another interval.
func gitRepositoryDocs(n int, url, interval string) []string {
	docs := make([]string, 0, n)
	for i := 0; i < n; i++ {
		docs = append(docs, gitRepository(i, url, interval))
	}
	return docs
}

// intervalDocs renders app i's GitRepository and Kustomization, both at
// interval, for each app (two documents per app).
func intervalDocs(n int, url, interval string) []string {
	docs := make([]string, 0, 2*n)
	for i := 0; i < n; i++ {
		docs = append(docs, gitRepository(i, url, interval), kustomizationAt(i, interval))
	}
	return docs
}

// referenceDocs renders the N×4 app objects into namespaces prefix-i, as the
// Kustomizations would apply them.
func referenceDocs(n int, prefix string) []string {
	docs := make([]string, 0, 4*n)
	for i := 0; i < n; i++ {
		docs = append(docs, appDocs(1, fmt.Sprintf("%s-%d", prefix, i), appName(i))...)
	}
	return docs
}
