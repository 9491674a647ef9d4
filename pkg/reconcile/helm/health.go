package helm

import (
	"context"

	fluxstatus "github.com/fluxcd/cli-utils/pkg/kstatus/polling/engine"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/event"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/statusreaders"
	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/cli-utils/pkg/object"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/celhealth"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// healthChecks compiles spec.healthCheckExprs (nil when there are none).
// One that does not compile stalls the release naming the entry, as Flux.
func healthChecks(obj *helmv2.HelmRelease) (*celhealth.Checks, error) {
	if len(obj.Spec.HealthCheckExprs) == 0 {
		return nil, nil
	}
	checks := make([]celhealth.Check, len(obj.Spec.HealthCheckExprs))
	for i, hc := range obj.Spec.HealthCheckExprs {
		checks[i] = celhealth.Check{APIVersion: hc.APIVersion, Kind: hc.Kind,
			Current: hc.Current, InProgress: hc.InProgress, Failed: hc.Failed}
	}
	c, err := celhealth.Compile(checks)
	if err != nil {
		return nil, loop.Stallf(common.InvalidCELExpressionReason, "spec.%v", err)
	}
	return c, nil
}

// waitOptions are the options of Helm's wait for obj: bound to ctx, and
// with the objects spec.healthCheckExprs covers assessed by their
// expressions instead of kstatus (Helm's status watcher asks the extra
// readers first).
func waitOptions(ctx context.Context, cfg *action.Configuration, obj *helmv2.HelmRelease) []kube.WaitOption {
	opts := []kube.WaitOption{kube.WithWaitContext(ctx)}
	checks, err := healthChecks(obj)
	if err != nil || checks == nil || cfg == nil || cfg.RESTClientGetter == nil {
		return opts
	}
	mapper, err := cfg.RESTClientGetter.ToRESTMapper()
	if err != nil {
		return opts
	}
	generic := statusreaders.NewGenericStatusReader(mapper, func(u *unstructured.Unstructured) (*status.Result, error) {
		res, _ := checks.Assess(u)
		return &status.Result{Status: status.Status(res.Status), Message: res.Message}, nil
	})
	return append(opts, kube.WithKStatusReaders(celReader{checks: checks, generic: generic}))
}

// celReader reads the status of the kinds the expressions cover.
type celReader struct {
	checks  *celhealth.Checks
	generic fluxstatus.StatusReader
}

var _ fluxstatus.StatusReader = celReader{}

func (r celReader) Supports(gk schema.GroupKind) bool { return r.checks.Covers(gk) }

func (r celReader) ReadStatus(ctx context.Context, reader fluxstatus.ClusterReader, id object.ObjMetadata) (*event.ResourceStatus, error) {
	return r.generic.ReadStatus(ctx, reader, id)
}

func (r celReader) ReadStatusForObject(ctx context.Context, reader fluxstatus.ClusterReader, u *unstructured.Unstructured) (*event.ResourceStatus, error) {
	return r.generic.ReadStatusForObject(ctx, reader, u)
}
