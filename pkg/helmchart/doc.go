// Package helmchart builds Helm charts the way Flux's source-controller does
// for HelmChart objects without Helm itself: it reads a chart directory
// (Chart.yaml), merges values files over its values, stamps a version, and
// packages the directory as a deterministic <name>-<version>.tgz.
package helmchart
