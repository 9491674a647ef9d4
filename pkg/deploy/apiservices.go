// Package deploy renders the manifests that depend on a deployment's
// certificate and address: the APIServices that register every served group
// version with kube-apiserver's aggregation layer.
package deploy

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// Target is where kube-apiserver reaches gitops-apiserver.
type Target struct {
	// Namespace and Service name the Service in front of gitops-apiserver.
	Namespace, Service string
	// Port on the Service.
	Port int32
	// CABundle is the PEM CA that signed gitops-apiserver's serving
	// certificate (issued for <Service>.<Namespace>.svc).
	CABundle []byte
}

// GroupPriorityMinimum places Flux groups after Kubernetes' own in discovery.
const GroupPriorityMinimum = 1000

// APIServices renders one APIService per group version, as a YAML stream.
// Within a group, earlier versions get a higher priority (gvs must list
// each group's preferred version first).
func APIServices(gvs []schema.GroupVersion, t Target) ([]byte, error) {
	var out []byte
	seen := map[string]int{}
	for _, gv := range gvs {
		rank := seen[gv.Group]
		seen[gv.Group] = rank + 1
		obj := map[string]interface{}{
			"apiVersion": "apiregistration.k8s.io/v1",
			"kind":       "APIService",
			"metadata": map[string]interface{}{
				"name":   gv.Version + "." + gv.Group,
				"labels": map[string]interface{}{"app.kubernetes.io/name": "gitops-apiserver"},
			},
			"spec": map[string]interface{}{
				"group":                gv.Group,
				"version":              gv.Version,
				"groupPriorityMinimum": GroupPriorityMinimum,
				"versionPriority":      100 - 10*rank,
				"caBundle":             t.CABundle,
				"service": map[string]interface{}{
					"namespace": t.Namespace,
					"name":      t.Service,
					"port":      t.Port,
				},
			},
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("APIService %s: %w", gv, err)
		}
		out = append(out, "---\n"...)
		out = append(out, b...)
	}
	return out, nil
}
