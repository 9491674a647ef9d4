package helm

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmrelease"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// defaultValuesKey is the key read from a valuesFrom ConfigMap or Secret
// when valuesKey is empty.
const defaultValuesKey = "values.yaml"

// values composes the release values in Flux's order: each valuesFrom
// reference in turn (a whole document merged in, or one value set at
// targetPath), then spec.values over all of them. Errors name the object
// and key, never the data.
func (r *Reconciler) values(ctx context.Context, obj *helmv2.HelmRelease) (map[string]any, error) {
	result := map[string]any{}
	for i, ref := range obj.Spec.ValuesFrom {
		subject := fmt.Sprintf("%s/%s/%s", ref.Kind, obj.Namespace, ref.Name)
		key := ref.ValuesKey
		if key == "" {
			key = defaultValuesKey
		}
		data, found, err := r.valuesData(ctx, obj.Namespace, ref)
		switch {
		case err != nil:
			return nil, loop.Failf(helm.InitFailedReason, "spec.valuesFrom[%d]: could not read %s: %v", i, subject, err)
		case !found && ref.Optional:
			continue
		case !found:
			return nil, loop.Failf(helm.InitFailedReason, "spec.valuesFrom[%d]: %s not found", i, subject)
		}
		value, ok := data[key]
		if !ok {
			if ref.Optional {
				continue
			}
			return nil, loop.Failf(helm.InitFailedReason, "spec.valuesFrom[%d]: %s has no key %q", i, subject, key)
		}
		if ref.TargetPath != "" {
			if err := helmrelease.SetValue(result, ref.TargetPath, string(value), ref.Literal); err != nil {
				return nil, loop.Stallf(helm.InitFailedReason, "spec.valuesFrom[%d]: %s key %q: %v", i, subject, key, err)
			}
			continue
		}
		values, err := helmrelease.ParseValues(value)
		if err != nil {
			return nil, loop.Stallf(helm.InitFailedReason, "spec.valuesFrom[%d]: %s key %q: %v", i, subject, key, err)
		}
		result = helmrelease.MergeValues(result, values)
	}
	if obj.Spec.Values != nil && len(obj.Spec.Values.Raw) > 0 {
		var values map[string]any
		if err := json.Unmarshal(obj.Spec.Values.Raw, &values); err != nil {
			return nil, loop.Stallf(helm.InitFailedReason, "spec.values: %v", err)
		}
		result = helmrelease.MergeValues(result, values)
	}
	return result, nil
}

// valuesData reads the data of a ConfigMap or Secret (found=false when it
// does not exist).
func (r *Reconciler) valuesData(ctx context.Context, namespace string, ref helmv2.ValuesReference) (map[string][]byte, bool, error) {
	switch ref.Kind {
	case "ConfigMap":
		cm, err := r.Host.CoreV1().ConfigMaps(namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
		for k, v := range cm.BinaryData {
			data[k] = v
		}
		for k, v := range cm.Data {
			data[k] = []byte(v)
		}
		return data, true, nil
	case "Secret":
		s, err := r.Host.CoreV1().Secrets(namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		return s.Data, true, nil
	}
	return nil, false, fmt.Errorf("kind must be ConfigMap or Secret")
}
