package deploy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apiserver"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/deploy"
	"github.com/gitops-apiserver/gitops-apiserver/test/framework"
)

const (
	ns             = framework.DeployNamespace
	serverName     = framework.DeployName
	serviceAccount = "system:serviceaccount:" + ns + ":" + serverName
)

var apiServicesGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// TestDeploy_HackDeployInstallsConsistentObjects installs gitops-apiserver
// with hack/deploy.sh into a control plane of its own, running the image
// `make push` pushed, and checks what a cluster would need for it to work:
// the pod runs on the node as the image's user under the restricted Pod
// Security Standard, Services and the NetworkPolicy select it on its
// ports, the RBAC grants what an aggregated server needs, every served
// group version has an APIService whose caBundle verifies the serving
// certificate the pod mounts, and a drain can evict it. No container runs
// (kwok), so the APIServices never become Available: consistency, not
// availability, is what is checked. A second hack/deploy.sh rotates the
// certificate and the CA together.
func TestDeploy_HackDeployInstallsConsistentObjects(t *testing.T) {
	_, _, image := pushImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	start := time.Now()
	cp := framework.StartForTest(t, framework.Options{ClusterOnly: true, Log: t.Logf})
	t.Logf("control plane up in %s", time.Since(start).Round(time.Second))
	t.Cleanup(func() {
		if err := cp.Undeploy(context.Background()); err != nil {
			t.Errorf("deleting the APIServices: %v", err)
		}
	})
	out, err := cp.Deploy(ctx, image, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hack/deploy.sh:\n%s", out)

	client, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	pod := waitRunning(ctx, t, client)
	t.Logf("pod %s Running and Ready on %s %s after start", pod.Name, pod.Spec.NodeName, time.Since(start).Round(time.Second))
	c := pod.Spec.Containers[0]
	if c.Image != image {
		t.Errorf("pod runs %q, want the pushed %q", c.Image, image)
	}
	if sc := pod.Spec.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
		t.Errorf("pod securityContext %+v, want the image's user 65532", sc)
	}
	checkRestrictedEnforced(ctx, t, client)
	checkPVCBound(ctx, t, client)
	checkServices(ctx, t, client, pod)
	checkNetworkPolicy(ctx, t, client, pod)
	checkPDB(ctx, t, client)
	checkRBAC(ctx, t, client)
	crt := checkAPIServices(ctx, t, client, dyn, pod)

	// Again: a new serving certificate, and every caBundle follows it.
	if out, err := cp.Deploy(ctx, image, t.TempDir()); err != nil {
		t.Fatalf("second hack/deploy.sh: %v\n%s", err, out)
	}
	if again := checkAPIServices(ctx, t, client, dyn, pod); again.Equal(crt) {
		t.Error("a second hack/deploy.sh kept the serving certificate; it rotates it")
	}
	t.Logf("checked in %s", time.Since(start).Round(time.Second))
}

// waitRunning waits for the Deployment to be available with its pod
// Running and Ready on the simulated node.
func waitRunning(ctx context.Context, t *testing.T, client kubernetes.Interface) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := client.AppsV1().Deployments(ns).Get(ctx, serverName, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		if !deploymentAvailable(d) {
			last = fmt.Sprintf("deployment status %+v", d.Status)
			return false, nil
		}
		pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(d.Spec.Selector)})
		if err != nil {
			return false, err
		}
		if len(pods.Items) != 1 {
			last = fmt.Sprintf("%d pods", len(pods.Items))
			return false, nil
		}
		p := &pods.Items[0]
		if p.Spec.NodeName != framework.NodeName || p.Status.Phase != corev1.PodRunning || !podReady(p) {
			last = fmt.Sprintf("pod %s on %q: %s %+v", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.Conditions)
			return false, nil
		}
		pod = p
		return true, nil
	})
	if err != nil {
		events, _ := client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		var msgs []string
		for _, e := range events.Items {
			msgs = append(msgs, e.InvolvedObject.Kind+"/"+e.InvolvedObject.Name+": "+e.Reason+": "+e.Message)
		}
		t.Fatalf("the Deployment's pod is not Running and Ready on %s: %v; last: %s\nevents:\n%s", framework.NodeName, err, last, strings.Join(msgs, "\n"))
	}
	return pod
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return d.Status.ObservedGeneration == d.Generation && d.Status.UpdatedReplicas == 1 && d.Status.AvailableReplicas == 1
		}
	}
	return false
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// checkRestrictedEnforced: the namespace enforces the restricted Pod
// Security Standard, so the pod that runs met it (a root pod is refused).
func checkRestrictedEnforced(ctx context.Context, t *testing.T, client kubernetes.Interface) {
	t.Helper()
	n, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace %s labels %v: want pod-security.kubernetes.io/enforce=restricted", ns, n.Labels)
	}
	root := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "root", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	_, err = client.CoreV1().Pods(ns).Create(ctx, root, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Errorf("a pod with no securityContext in %s: err = %v, want it refused by PodSecurity", ns, err)
	}
}

func checkPVCBound(ctx context.Context, t *testing.T, client kubernetes.Interface) {
	t.Helper()
	pvc, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, framework.DeployDataClaim, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pvc.Status.Phase != corev1.ClaimBound {
		t.Errorf("PVC %s is %s, want Bound", pvc.Name, pvc.Status.Phase)
	}
}

// checkServices: each Service selects the pod and targets a port it has,
// and the gitops-apiserver Service's EndpointSlice lists the pod ready.
func checkServices(ctx context.Context, t *testing.T, client kubernetes.Interface, pod *corev1.Pod) {
	t.Helper()
	ports := containerPorts(pod)
	for _, name := range []string{serverName, "webhook-receiver", "notification-controller"} {
		svc, err := client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Error(err)
			continue
		}
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
			t.Errorf("Service %s selector %v does not select the pod (labels %v)", name, svc.Spec.Selector, pod.Labels)
		}
		for _, p := range svc.Spec.Ports {
			if _, ok := ports[p.TargetPort.String()]; !ok {
				t.Errorf("Service %s port %d targets %s, which the container does not serve (%v)", name, p.Port, p.TargetPort.String(), ports)
			}
		}
	}
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		slices, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + serverName})
		if err != nil {
			return false, err
		}
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.TargetRef != nil && e.TargetRef.Name == pod.Name && e.Conditions.Ready != nil && *e.Conditions.Ready {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Errorf("Service %s has no ready endpoint for pod %s: %v", serverName, pod.Name, err)
	}
}

// containerPorts maps the container's port names and numbers to numbers.
func containerPorts(pod *corev1.Pod) map[string]int32 {
	ports := map[string]int32{}
	for _, p := range pod.Spec.Containers[0].Ports {
		ports[p.Name] = p.ContainerPort
		ports[fmt.Sprint(p.ContainerPort)] = p.ContainerPort
	}
	return ports
}

// checkNetworkPolicy: it selects the pod and admits exactly the ports the
// container serves, the unauthenticated event ingest from cluster pods only.
func checkNetworkPolicy(ctx context.Context, t *testing.T, client kubernetes.Interface, pod *corev1.Pod) {
	t.Helper()
	np, err := client.NetworkingV1().NetworkPolicies(ns).Get(ctx, serverName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
		t.Errorf("NetworkPolicy podSelector %v does not select the pod (labels %v)", np.Spec.PodSelector, pod.Labels)
	}
	ports := containerPorts(pod)
	admitted := map[int32]bool{}
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.Ports {
			if p.Port == nil {
				t.Errorf("ingress rule %+v admits every port", rule)
				continue
			}
			n, ok := ports[p.Port.String()]
			if !ok {
				t.Errorf("NetworkPolicy admits port %s, which the container does not serve", p.Port.String())
			}
			admitted[n] = true
			if n == 9090 && (len(rule.From) != 1 || rule.From[0].NamespaceSelector == nil || rule.From[0].IPBlock != nil) {
				t.Errorf("the event ingest port (unauthenticated) is admitted from %+v, want cluster pods only", rule.From)
			}
		}
	}
	for _, p := range pod.Spec.Containers[0].Ports {
		if !admitted[p.ContainerPort] {
			t.Errorf("NetworkPolicy does not admit port %s (%d)", p.Name, p.ContainerPort)
		}
	}
}

// checkPDB: the budget covers the pod and lets a drain evict it.
func checkPDB(ctx context.Context, t *testing.T, client kubernetes.Interface) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		pdb, err := client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, serverName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := pdb.Status
		last = fmt.Sprintf("%+v", s)
		return s.ObservedGeneration == pdb.Generation && s.ExpectedPods == 1 && s.CurrentHealthy == 1 && s.DisruptionsAllowed == 1, nil
	})
	if err != nil {
		t.Errorf("PodDisruptionBudget %s: want 1 expected, healthy and evictable pod: %v; status %s", serverName, err, last)
	}
}

// checkRBAC asks kube-apiserver what the service account may do: what
// every aggregated server needs (delegated authentication and
// authorization, the front-proxy CA), what this one reads and writes, and
// the Flux roles aggregated into view.
func checkRBAC(ctx context.Context, t *testing.T, client kubernetes.Interface) {
	t.Helper()
	crb, err := client.RbacV1().ClusterRoleBindings().Get(ctx, serverName+":system:auth-delegator", metav1.GetOptions{})
	if err != nil || crb.RoleRef.Name != "system:auth-delegator" || len(crb.Subjects) != 1 || crb.Subjects[0].Name != serverName || crb.Subjects[0].Namespace != ns {
		t.Errorf("auth-delegator binding %+v: %v", crb, err)
	}
	rb, err := client.RbacV1().RoleBindings("kube-system").Get(ctx, serverName+"-auth-reader", metav1.GetOptions{})
	if err != nil || rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != "extension-apiserver-authentication-reader" || len(rb.Subjects) != 1 || rb.Subjects[0].Name != serverName {
		t.Errorf("extension-apiserver-authentication-reader binding %+v: %v", rb, err)
	}
	for _, a := range []authorizationv1.ResourceAttributes{
		{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"},
		{Group: "authorization.k8s.io", Resource: "subjectaccessreviews", Verb: "create"},
		{Namespace: "kube-system", Resource: "configmaps", Name: "extension-apiserver-authentication", Verb: "get"},
		{Resource: "namespaces", Verb: "watch"},
		{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies", Verb: "list"},
		{Group: "flowcontrol.apiserver.k8s.io", Resource: "flowschemas", Verb: "watch"},
		{Namespace: ns, Group: "coordination.k8s.io", Resource: "leases", Verb: "update"},
		{Namespace: "default", Resource: "events", Verb: "create"},
		{Namespace: "default", Group: "apps", Resource: "deployments", Verb: "patch"}, // applying manifests (cluster-reconciler)
	} {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: serviceAccount, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
			ResourceAttributes: &a,
		}}
		res, err := client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Status.Allowed {
			t.Errorf("%s may not %s %s.%s %s/%s", serviceAccount, a.Verb, a.Resource, a.Group, a.Namespace, a.Name)
		}
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		view, err := client.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, r := range view.Rules {
			for _, res := range r.Resources {
				if res == "kustomizations" {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Errorf("flux-view is not aggregated into the view ClusterRole: %v", err)
	}
}

// checkAPIServices: one APIService per served group version, as
// pkg/deploy renders them, on the gitops-apiserver Service's https port,
// verifying TLS with a caBundle that signed the certificate the pod
// serves. It returns that certificate.
func checkAPIServices(ctx context.Context, t *testing.T, client kubernetes.Interface, dyn dynamic.Interface, pod *corev1.Pod) *x509.Certificate {
	t.Helper()
	secret, err := client.CoreV1().Secrets(ns).Get(ctx, serverName+"-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(secret.Data["tls.crt"], secret.Data["tls.key"]); err != nil {
		t.Errorf("Secret %s: %v", secret.Name, err)
	}
	crt, err := parseCert(secret.Data["tls.crt"])
	if err != nil {
		t.Fatal(err)
	}
	checkPodServesSecret(t, pod, secret.Name)

	list, err := dyn.Resource(apiServicesGVR).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + serverName})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*unstructured.Unstructured{}
	for i := range list.Items {
		got[list.Items[i].GetName()] = &list.Items[i]
	}
	var caBundle []byte
	for name, obj := range got {
		b64, _, _ := unstructured.NestedString(obj.Object, "spec", "caBundle")
		ca, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("APIService %s caBundle: %v", name, err)
		}
		if err := verifyServing(ca, crt); err != nil {
			t.Errorf("APIService %s: its caBundle does not verify the serving certificate: %v", name, err)
		}
		caBundle = ca
	}
	// What hack/deploy renders for every served group version, with this CA.
	want, err := deploy.APIServices(apiserver.GroupVersions(), deploy.Target{Namespace: ns, Service: serverName, Port: 443, CABundle: caBundle})
	if err != nil {
		t.Fatal(err)
	}
	wantNames := map[string]bool{}
	for _, doc := range strings.Split(strings.TrimPrefix(string(want), "---\n"), "---\n") {
		var w unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(doc), &w.Object); err != nil {
			t.Fatal(err)
		}
		wantNames[w.GetName()] = true
		g, ok := got[w.GetName()]
		if !ok {
			t.Errorf("no APIService %s", w.GetName())
			continue
		}
		wantSpec, _, _ := unstructured.NestedMap(w.Object, "spec")
		gotSpec, _, _ := unstructured.NestedMap(g.Object, "spec")
		if problems := framework.SubsetProblems(wantSpec, gotSpec); len(problems) > 0 {
			t.Errorf("APIService %s: %s", w.GetName(), strings.Join(problems, "; "))
		}
		if skip, _, _ := unstructured.NestedBool(g.Object, "spec", "insecureSkipTLSVerify"); skip {
			t.Errorf("APIService %s skips TLS verification", w.GetName())
		}
	}
	var extra []string
	for name := range got {
		if !wantNames[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("APIServices for group versions not served: %v", extra)
	}
	svc, err := client.CoreV1().Services(ns).Get(ctx, serverName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var https bool
	for _, p := range svc.Spec.Ports {
		https = https || (p.Port == 443 && p.TargetPort == intstr.FromString("https") && containerPorts(pod)["https"] == 8443)
	}
	if !https {
		t.Errorf("Service %s ports %+v: want 443 to the container's https port, where --secure-port listens", serverName, svc.Spec.Ports)
	}
	return crt
}

// checkPodServesSecret: the pod mounts the Secret where its TLS flags read.
func checkPodServesSecret(t *testing.T, pod *corev1.Pod, secret string) {
	t.Helper()
	var volume string
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret {
			volume = v.Name
		}
	}
	var mountPath string
	c := pod.Spec.Containers[0]
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			mountPath = m.MountPath
		}
	}
	args := strings.Join(c.Args, " ")
	if volume == "" || mountPath == "" ||
		!strings.Contains(args, "--tls-cert-file="+mountPath+"/tls.crt") || !strings.Contains(args, "--tls-private-key-file="+mountPath+"/tls.key") ||
		!strings.Contains(args, "--secure-port=8443") {
		t.Errorf("the pod does not serve the Secret %s (volume %q at %q, args %q)", secret, volume, mountPath, c.Args)
	}
}

// parseCert reads the first certificate of a PEM bundle.
func parseCert(pemBytes []byte) (*x509.Certificate, error) {
	for rest := pemBytes; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, fmt.Errorf("no certificate in PEM")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

// verifyServing checks crt for the Service's DNS name against caBundle, as
// kube-apiserver's aggregator does.
func verifyServing(caBundle []byte, crt *x509.Certificate) error {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caBundle) {
		return fmt.Errorf("no certificate in caBundle")
	}
	_, err := crt.Verify(x509.VerifyOptions{
		Roots:     roots,
		DNSName:   serverName + "." + ns + ".svc",
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

// verifyOptions verify a serving certificate for dnsName issued by root.
func verifyOptions(root *x509.Certificate, dnsName string) x509.VerifyOptions {
	roots := x509.NewCertPool()
	if root != nil {
		roots.AddCert(root)
	}
	return x509.VerifyOptions{Roots: roots, DNSName: dnsName, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
}
