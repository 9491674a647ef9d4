// Package framework runs a real local control plane on loopback: etcd,
// kube-apiserver with the aggregation layer, and gitops-apiserver registered
// through APIServices, the way users run it. hack/local-up.sh (make run) and
// the integration tests both use it.
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
	"time"

	"k8s.io/client-go/rest"
)

// Options configure a control plane.
type Options struct {
	// Dir holds certificates, data, logs and kubeconfigs; Dir/kubeconfig is
	// the admin kubeconfig.
	Dir string
	// BinDir holds kube-apiserver, etcd, kubectl and gitops-apiserver.
	BinDir string
	// RepoRoot is the repository checkout (for artifacts/deploy).
	RepoRoot string
	// GitOpsArgs are extra flags for gitops-apiserver.
	GitOpsArgs []string
	// SharedEtcd runs gitops-apiserver on the control plane's etcd
	// (--etcd-servers, shared with kube-apiserver under another prefix)
	// instead of its embedded one.
	SharedEtcd bool
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...interface{})
}

// ControlPlane is a running local control plane.
type ControlPlane struct {
	opts Options
	pki  *pki

	etcd, kubeAPIServer, gitops *process

	etcdClientURL, etcdPeerURL string
	kubePort, gitopsPort       int

	// Kubeconfig is the admin (system:masters) kubeconfig file.
	Kubeconfig string
	// GitOpsKubeconfig is the identity gitops-apiserver runs as.
	GitOpsKubeconfig string
}

// Start brings up etcd, kube-apiserver and gitops-apiserver, registers the
// APIServices and waits until all are Available. On error everything
// started is stopped.
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
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	cp.etcdClientURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	cp.etcdPeerURL = "http://127.0.0.1:" + strconv.Itoa(ports[1])
	cp.kubePort, cp.gitopsPort = ports[2], ports[3]

	opts.Log("starting etcd on %s", cp.etcdClientURL)
	if err := cp.startEtcd(ctx); err != nil {
		return nil, err
	}
	opts.Log("starting kube-apiserver on https://127.0.0.1:%d", cp.kubePort)
	if err := cp.startKubeAPIServer(ctx); err != nil {
		return nil, err
	}
	opts.Log("installing namespace, RBAC and APIServices")
	if err := cp.installManifests(ctx); err != nil {
		return nil, err
	}
	opts.Log("starting gitops-apiserver on https://127.0.0.1:%d", cp.gitopsPort)
	if err := cp.StartGitOps(ctx); err != nil {
		return nil, err
	}
	return cp, nil
}

// Stop stops every process, gitops-apiserver first.
func (cp *ControlPlane) Stop() {
	cp.gitops.stop(20 * time.Second)
	cp.kubeAPIServer.stop(20 * time.Second)
	cp.etcd.stop(10 * time.Second)
}

// Done is closed when any component exits.
func (cp *ControlPlane) Done() <-chan string {
	ch := make(chan string, 1)
	for _, p := range []*process{cp.etcd, cp.kubeAPIServer, cp.gitops} {
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
	args := []string{
		"--secure-port=" + strconv.Itoa(cp.gitopsPort),
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + cp.pki.gitopsServing.CertFile,
		"--tls-private-key-file=" + cp.pki.gitopsServing.KeyFile,
		"--kubeconfig=" + cp.GitOpsKubeconfig,
		"--authentication-kubeconfig=" + cp.GitOpsKubeconfig,
		"--authorization-kubeconfig=" + cp.GitOpsKubeconfig,
		"--data-dir=" + filepath.Join(cp.opts.Dir, "gitops-data"),
	}
	if cp.opts.SharedEtcd {
		args = append(args, "--etcd-servers="+cp.etcdClientURL)
	}
	args = append(args, cp.opts.GitOpsArgs...)
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
