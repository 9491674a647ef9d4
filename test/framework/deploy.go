package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The deployment hack/deploy.sh installs (artifacts/deploy).
const (
	DeployNamespace = "flux-system"
	DeployName      = "gitops-apiserver"
	// DeployDataClaim is the PersistentVolumeClaim of the embedded etcd.
	DeployDataClaim = "gitops-apiserver-data"
)

// Deploy installs gitops-apiserver the way a user does: hack/deploy.sh
// with this control plane's admin kubeconfig and kubectl, running image
// (empty keeps artifacts/deploy's) and writing its certificate and
// manifests to outDir. The pod is scheduled to the simulated node, where
// it is "Running" at once: its image is never pulled and nothing serves
// behind the APIServices, which therefore stay unavailable.
//
// No volume provisioner runs here, so Deploy first creates what one would:
// a PersistentVolume bound ahead to the data claim (a hostPath nothing
// mounts).
func (cp *ControlPlane) Deploy(ctx context.Context, image, outDir string) ([]byte, error) {
	if err := cp.provisionDataVolume(ctx); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(cp.opts.RepoRoot, "hack", "deploy.sh"))
	cmd.Dir = cp.opts.RepoRoot
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+cp.Kubeconfig,
		"KUBECTL="+cp.KubectlPath(),
		"IMAGE="+image,
		"OUT_DIR="+outDir,
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("hack/deploy.sh: %w\n%s", err, out)
	}
	cp.opts.Log("hack/deploy.sh took %s", time.Since(start).Round(time.Second))
	return out, nil
}

// Undeploy deletes the APIServices hack/deploy.sh registered, so discovery
// through this kube-apiserver is whole again (their backend never answers
// here).
func (cp *ControlPlane) Undeploy(ctx context.Context) error {
	_, err := cp.Kubectl(ctx, "delete", "apiservices", "-l", "app.kubernetes.io/name="+DeployName, "--ignore-not-found")
	return err
}

func (cp *ControlPlane) provisionDataVolume(ctx context.Context) error {
	client, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		return err
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: DeployNamespace + "-" + DeployDataClaim},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: DeployNamespace, Name: DeployDataClaim},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/kwok-volumes/" + DeployDataClaim},
			},
		},
	}
	if _, err := client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("PersistentVolume for %s/%s: %w", DeployNamespace, DeployDataClaim, err)
	}
	return nil
}
