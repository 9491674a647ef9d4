// Package framework runs a real local control plane on loopback: etcd,
// kube-apiserver with the aggregation layer, kube-controller-manager,
// kube-scheduler, a simulated node (kwok: pods are scheduled and "run", no
// container ever does), and gitops-apiserver registered through
// APIServices, the way users run it. hack/local-up.sh (make run), the
// integration tests and the benchmark all use it.
package framework

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// Options configure a control plane.
type Options struct {
	// Dir holds certificates, data, logs and kubeconfigs; Dir/kubeconfig is
	// the admin kubeconfig.
	Dir string
	// BinDir holds kube-apiserver, kube-controller-manager, kube-scheduler,
	// kwok (and kwok-stages.yaml), etcd, kubectl and gitops-apiserver.
	BinDir string
	// RepoRoot is the repository checkout (for artifacts/deploy).
	RepoRoot string
	// GitOpsArgs are extra flags for gitops-apiserver.
	GitOpsArgs []string
	// SharedEtcd runs gitops-apiserver on the control plane's etcd
	// (--etcd-servers, shared with kube-apiserver under another prefix)
	// instead of its embedded one.
	SharedEtcd bool
	// ClusterOnly starts the cluster alone: no gitops-apiserver process,
	// nothing of artifacts/deploy and no APIServices. Deploy then installs
	// the server the way a user does (hack/deploy.sh), its pod "running" on
	// the simulated node.
	ClusterOnly bool
	// ControllerManagerQPS, when positive, is kube-controller-manager's
	// --kube-api-qps (burst twice that) instead of its default 20 per
	// controller, which bounds how fast Deployments become ready.
	ControllerManagerQPS int
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...interface{})
}

// ControlPlane is a running local control plane.
type ControlPlane struct {
	opts Options
	pki  *pki

	etcd, kubeAPIServer, gitops        *process
	controllerManager, scheduler, kwok *process

	etcdClientURL, etcdPeerURL string
	kubePort, gitopsPort       int
	// receiverPort and eventsPort serve Receivers' webhooks and Flux's
	// event ingest API.
	receiverPort, eventsPort int

	// Kubeconfig is the admin (system:masters) kubeconfig file.
	Kubeconfig string
	// GitOpsKubeconfig is the identity gitops-apiserver runs as.
	GitOpsKubeconfig string
}

// Start brings up etcd, kube-apiserver, gitops-apiserver, then
// kube-controller-manager, kube-scheduler and the simulated node, registers
// the APIServices and waits until all are Available and the node is Ready.
// On error everything started is stopped.
func Start(ctx context.Context, opts Options) (_ *ControlPlane, err error) {
	if opts.Log == nil {
		opts.Log = func(string, ...interface{}) {}
	}
	for _, d := range []string{opts.Dir, filepath.Join(opts.Dir, "pki"), filepath.Join(opts.Dir, "gitops-data")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	cp := &ControlPlane{opts: opts}
	defer func() {
		if err != nil {
			cp.Stop()
		}
	}()
	if cp.pki, err = newPKI(filepath.Join(opts.Dir, "pki")); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	// Ports are picked free and released before the process binds them; a
	// test binary running beside this one can take one in between, so a
	// start that fails to bind is tried again on other ports.
	err = withFreePorts(2, func(ports []int) error {
		cp.etcdClientURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
		cp.etcdPeerURL = "http://127.0.0.1:" + strconv.Itoa(ports[1])
		opts.Log("starting etcd on %s", cp.etcdClientURL)
		return cp.startEtcd(ctx)
	})
	if err != nil {
		return nil, err
	}
	err = withFreePorts(1, func(ports []int) error {
		cp.kubePort = ports[0]
		opts.Log("starting kube-apiserver on https://127.0.0.1:%d", cp.kubePort)
		return cp.startKubeAPIServer(ctx)
	})
	if err != nil {
		return nil, err
	}
	if !opts.ClusterOnly {
		if err := cp.installGitOps(ctx); err != nil {
			return nil, err
		}
	}
	// After gitops-apiserver, so the controllers' first discovery (garbage
	// collection, namespace deletion) already sees the Flux groups.
	opts.Log("starting kube-controller-manager, kube-scheduler and the simulated node %s", NodeName)
	if err := withFreePorts(1, func(p []int) error { return cp.startControllerManager(ctx, p[0]) }); err != nil {
		return nil, err
	}
	if err := withFreePorts(1, func(p []int) error { return cp.startScheduler(ctx, p[0]) }); err != nil {
		return nil, err
	}
	if err := cp.startNode(ctx); err != nil {
		return nil, err
	}
	return cp, nil
}

// installGitOps applies the namespace, RBAC and APIServices and starts
// gitops-apiserver on loopback.
func (cp *ControlPlane) installGitOps(ctx context.Context) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	cp.gitopsPort, cp.receiverPort, cp.eventsPort = ports[0], ports[1], ports[2]
	cp.opts.Log("installing namespace, RBAC and APIServices")
	if err := cp.installManifests(ctx); err != nil {
		return err
	}
	cp.opts.Log("starting gitops-apiserver on https://127.0.0.1:%d", cp.gitopsPort)
	return cp.StartGitOps(ctx)
}

// Stop stops every process: the node and controllers, gitops-apiserver,
// then kube-apiserver and etcd.
func (cp *ControlPlane) Stop() {
	cp.kwok.stop(10 * time.Second)
	cp.scheduler.stop(10 * time.Second)
	cp.controllerManager.stop(10 * time.Second)
	cp.gitops.stop(20 * time.Second)
	cp.kubeAPIServer.stop(20 * time.Second)
	cp.etcd.stop(10 * time.Second)
}

// Done is closed when any component exits.
func (cp *ControlPlane) Done() <-chan string {
	ch := make(chan string, 1)
	for _, p := range []*process{cp.etcd, cp.kubeAPIServer, cp.gitops, cp.controllerManager, cp.scheduler, cp.kwok} {
		if p == nil { // gitops-apiserver with ClusterOnly
			continue
		}
		go func() {
			<-p.done
			select {
			case ch <- fmt.Sprintf("%s exited (%v); log %s", p.name, p.err, p.log):
			default:
			}
		}()
	}
	return ch
}

// StartGitOps starts gitops-apiserver and waits until every APIService is
// Available through kube-apiserver.
func (cp *ControlPlane) StartGitOps(ctx context.Context) error {
	return cp.startGitOps(ctx, nil)
}

// RestartGitOps stops gitops-apiserver and starts it again with extraArgs
// after the control plane's own (later flags win), e.g. --concurrent=1 or
// --disable-workers for one test; RestartGitOps(ctx) restores the usual
// flags.
func (cp *ControlPlane) RestartGitOps(ctx context.Context, extraArgs ...string) error {
	cp.StopGitOps()
	return cp.startGitOps(ctx, extraArgs)
}

func (cp *ControlPlane) startGitOps(ctx context.Context, extraArgs []string) error {
	args := []string{
		"--secure-port=" + strconv.Itoa(cp.gitopsPort),
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + cp.pki.gitopsServing.CertFile,
		"--tls-private-key-file=" + cp.pki.gitopsServing.KeyFile,
		"--kubeconfig=" + cp.GitOpsKubeconfig,
		"--authentication-kubeconfig=" + cp.GitOpsKubeconfig,
		"--authorization-kubeconfig=" + cp.GitOpsKubeconfig,
		"--data-dir=" + filepath.Join(cp.opts.Dir, "gitops-data"),
		"--receiver-addr=" + cp.ReceiverAddress(),
		"--events-addr=" + cp.EventsAddress(),
	}
	if cp.opts.SharedEtcd {
		args = append(args, "--etcd-servers="+cp.etcdClientURL)
	}
	args = append(args, cp.opts.GitOpsArgs...)
	args = append(args, extraArgs...)
	p, err := startProcess(cp.opts.Dir, "gitops-apiserver", filepath.Join(cp.opts.BinDir, "gitops-apiserver"), args...)
	if err != nil {
		return err
	}
	cp.gitops = p
	return cp.waitAPIServicesAvailable(ctx, p)
}

// StopGitOps stops gitops-apiserver (e.g. to test a restart).
func (cp *ControlPlane) StopGitOps() {
	cp.gitops.stop(20 * time.Second)
}

// ReceiverAddress is where Receivers' webhooks are served (host:port):
// POST http://<address>/hook/<digest>.
func (cp *ControlPlane) ReceiverAddress() string {
	return "127.0.0.1:" + strconv.Itoa(cp.receiverPort)
}

// EventsAddress is where Flux's event ingest API is served (host:port).
func (cp *ControlPlane) EventsAddress() string { return "127.0.0.1:" + strconv.Itoa(cp.eventsPort) }

// GitOpsDataDir is gitops-apiserver's --data-dir.
func (cp *ControlPlane) GitOpsDataDir() string { return filepath.Join(cp.opts.Dir, "gitops-data") }

// GitOpsLog is the path of gitops-apiserver's log file.
func (cp *ControlPlane) GitOpsLog() string { return cp.gitops.log }

// RESTConfig is an admin client configuration for kube-apiserver.
func (cp *ControlPlane) RESTConfig() *rest.Config {
	return &rest.Config{
		Host: fmt.Sprintf("https://127.0.0.1:%d", cp.kubePort),
		TLSClientConfig: rest.TLSClientConfig{
			CAFile:   cp.pki.serverCA.CertFile,
			CertFile: cp.pki.admin.CertFile,
			KeyFile:  cp.pki.admin.KeyFile,
		},
		QPS:   100,
		Burst: 200,
	}
}

// Kubectl runs kubectl with the admin kubeconfig and returns its combined
// output.
func (cp *ControlPlane) Kubectl(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(cp.opts.BinDir, "kubectl"), append([]string{"--kubeconfig=" + cp.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("kubectl %v: %w: %s", args, err, out)
	}
	return out, nil
}

// KubectlWithInput runs kubectl as admin with stdin.
func (cp *ControlPlane) KubectlWithInput(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(cp.opts.BinDir, "kubectl"), append([]string{"--kubeconfig=" + cp.Kubeconfig}, args...)...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("kubectl %v: %w: %s", args, err, out)
	}
	return out, nil
}

// KubectlPath is the kubectl binary the control plane uses.
func (cp *ControlPlane) KubectlPath() string { return filepath.Join(cp.opts.BinDir, "kubectl") }

// withFreePorts runs start with n free loopback ports, and again with
// others (at most 3 times) when the process it started could not bind one.
func withFreePorts(n int, start func(ports []int) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var ports []int
		if ports, err = freePorts(n); err != nil {
			return err
		}
		if err = start(ports); err == nil || !strings.Contains(err.Error(), "address already in use") {
			return err
		}
	}
	return err
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// GitOpsGet reads a path (e.g. /metrics, or
// /debug/pprof/profile?seconds=30) from gitops-apiserver directly, as
// admin: its delegated authentication accepts kube-apiserver's client
// certificates, and authorization asks kube-apiserver.
func (cp *ControlPlane) GitOpsGet(ctx context.Context, path string) ([]byte, error) {
	cfg := &rest.Config{
		Host: fmt.Sprintf("https://127.0.0.1:%d", cp.gitopsPort),
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   cp.pki.gitopsCA.PEM,
			CertFile: cp.pki.admin.CertFile,
			KeyFile:  cp.pki.admin.KeyFile,
		},
	}
	client, err := rest.UnversionedRESTClientFor(withCodec(cfg))
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(path)
	if err != nil {
		return nil, err
	}
	req := client.Get().AbsPath(u.Path)
	for k, vs := range u.Query() {
		for _, v := range vs {
			req = req.Param(k, v)
		}
	}
	return req.DoRaw(ctx)
}
