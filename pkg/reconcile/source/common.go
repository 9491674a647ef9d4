package source

import (
	"fmt"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// handleReconcileRequest records that the reconcile.fluxcd.io/requestedAt
// annotation (set by `flux reconcile` or the /reconcile subresource) was
// handled by this run.
func handleReconcileRequest(obj interface{ GetAnnotations() map[string]string }, status *common.ReconcileRequestStatus) {
	if v, ok := obj.GetAnnotations()[common.ReconcileRequestAnnotation]; ok {
		status.LastHandledReconcileAt = v
	}
}

// artifactURL is where a user (with RBAC on the artifact subresource) can
// download an object's artifact through kube-apiserver.
func artifactURL(resource, namespace, name string) string {
	return fmt.Sprintf("/apis/source.toolkit.fluxcd.io/v1/namespaces/%s/%s/%s/artifact", namespace, resource, name)
}

func reasonOf(err error, fallback string) string {
	_, reason := loop.Classify(err, fallback)
	if reason == "" {
		return fallback
	}
	return reason
}
