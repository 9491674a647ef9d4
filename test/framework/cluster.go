package framework

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The simulated node. kwok manages Nodes carrying NodeAnnotation and plays
// the kubelet's part for pods bound to them: with the "fast" stages it marks
// them Running and Ready at once, completes Job pods, and finishes deletes.
// No container ever runs.
const (
	// NodeName is the simulated node every pod is scheduled to.
	NodeName = "kwok-node-0"
	// NodeAnnotation marks a Node as kwok's to manage.
	NodeAnnotation = "kwok.x-k8s.io/node"
)

// startControllerManager runs kube-controller-manager as
// system:kube-controller-manager with a service account per controller,
// as kubeadm does: Deployments, ReplicaSets and Jobs progress, namespaces
// finish deleting, garbage collection and ClusterRole aggregation work.
func (cp *ControlPlane) startControllerManager(ctx context.Context, port int) error {
	kubeconfig := filepath.Join(cp.opts.Dir, "kube-controller-manager.kubeconfig")
	if err := cp.writeKubeconfig(kubeconfig, "kube-controller-manager", cp.pki.controllerManager); err != nil {
		return err
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(cp.opts.Dir, "kube-controller-manager-certs"),
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + cp.pki.serviceAccountKey,
		"--root-ca-file=" + cp.pki.serverCA.CertFile,
		// No cloud, no pod network to allocate, no certificate signing.
		"--controllers=*,-nodeipam,-csrsigning,-csrapproving,-csrcleaner,-bootstrapsigner,-tokencleaner",
		// Faster than a real cluster's defaults, so tests see the effect
		// of a namespace deletion or a scale-down promptly.
		"--concurrent-gc-syncs=10",
		"--concurrent-namespace-syncs=5",
	}
	if qps := cp.opts.ControllerManagerQPS; qps > 0 {
		args = append(args, "--kube-api-qps="+strconv.Itoa(qps), "--kube-api-burst="+strconv.Itoa(2*qps))
	}
	p, err := startProcess(cp.opts.Dir, "kube-controller-manager", filepath.Join(cp.opts.BinDir, "kube-controller-manager"), args...)
	if err != nil {
		return err
	}
	cp.controllerManager = p
	return poll(ctx, 60*time.Second, p, "kube-controller-manager /healthz", func() (bool, error) {
		return healthy(port)
	})
}

// startScheduler runs kube-scheduler as system:kube-scheduler.
func (cp *ControlPlane) startScheduler(ctx context.Context, port int) error {
	kubeconfig := filepath.Join(cp.opts.Dir, "kube-scheduler.kubeconfig")
	if err := cp.writeKubeconfig(kubeconfig, "kube-scheduler", cp.pki.scheduler); err != nil {
		return err
	}
	p, err := startProcess(cp.opts.Dir, "kube-scheduler", filepath.Join(cp.opts.BinDir, "kube-scheduler"),
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(cp.opts.Dir, "kube-scheduler-certs"),
		"--leader-elect=false",
	)
	if err != nil {
		return err
	}
	cp.scheduler = p
	return poll(ctx, 60*time.Second, p, "kube-scheduler /healthz", func() (bool, error) {
		return healthy(port)
	})
}

// startNode registers the simulated node and runs kwok for it, then waits
// until the node is Ready.
func (cp *ControlPlane) startNode(ctx context.Context) error {
	client, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		return err
	}
	if _, err := client.CoreV1().Nodes().Create(ctx, simulatedNode(), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("registering node %s: %w", NodeName, err)
	}
	p, err := startProcess(cp.opts.Dir, "kwok", filepath.Join(cp.opts.BinDir, "kwok"),
		"--kubeconfig="+cp.Kubeconfig,
		"--config="+filepath.Join(cp.opts.BinDir, "kwok-stages.yaml"),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector="+NodeAnnotation+"=fake",
		"--node-ip=127.0.0.1",
		"--cidr=10.244.0.1/16",
	)
	if err != nil {
		return err
	}
	cp.kwok = p
	return poll(ctx, 60*time.Second, p, "node "+NodeName+" Ready", func() (bool, error) {
		n, err := client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	})
}

// simulatedNode is a large node: the benchmark and the tests schedule many
// pods and nothing is really consumed.
func simulatedNode() *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("1000"),
		corev1.ResourceMemory: resource.MustParse("4Ti"),
		corev1.ResourcePods:   resource.MustParse("10000"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{NodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/arch":     "amd64",
				"kubernetes.io/os":       "linux",
				"kubernetes.io/hostname": NodeName,
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			NodeInfo: corev1.NodeSystemInfo{
				Architecture: "amd64", OperatingSystem: "linux",
				KubeletVersion: "kwok", KubeProxyVersion: "kwok",
			},
		},
	}
}

// healthy probes a component's /healthz on loopback (readable anonymously).
func healthy(port int) (bool, error) {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		// Self-signed serving certificates; health needs no verification.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health probe
	}}
	resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}
