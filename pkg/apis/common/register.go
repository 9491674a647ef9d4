package common

import "k8s.io/apimachinery/pkg/runtime/schema"

// SchemeGroupVersion names this package for generated apply configurations,
// which index every input package by group version. No API group is served
// under it: these types are only ever embedded in the Flux kinds.
var SchemeGroupVersion = schema.GroupVersion{Group: "common.gitops-apiserver.io", Version: "common"}
