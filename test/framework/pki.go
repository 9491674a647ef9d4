package framework

import (
	"path/filepath"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/deploy"
)

// Identities of the local control plane.
const (
	// GitOpsUser is the identity gitops-apiserver runs as: the service account
	// the deployment in artifacts/deploy uses, so its RBAC is what is tested.
	GitOpsUser = "system:serviceaccount:flux-system:gitops-apiserver"
	// FrontProxyUser is the name kube-apiserver's aggregator presents.
	FrontProxyUser = "front-proxy-client"
	// ServiceDNSName is the name the aggregator checks on our serving cert.
	ServiceDNSName = "gitops-apiserver.flux-system.svc"
)

// pki is every certificate and key of the local control plane.
type pki struct {
	serverCA, clientCA, frontProxyCA, gitopsCA *deploy.CA

	kubeServing, admin, gitopsClient, frontProxyClient, gitopsServing deploy.KeyPair
	controllerManager, scheduler                                      deploy.KeyPair
	serviceAccountKey                                                 string
}

func newPKI(dir string) (*pki, error) {
	p := &pki{serviceAccountKey: filepath.Join(dir, "service-account.key")}
	var err error
	if p.serverCA, err = deploy.NewCA(dir, "server"); err != nil {
		return nil, err
	}
	if p.clientCA, err = deploy.NewCA(dir, "client"); err != nil {
		return nil, err
	}
	if p.frontProxyCA, err = deploy.NewCA(dir, "front-proxy"); err != nil {
		return nil, err
	}
	if p.gitopsCA, err = deploy.NewCA(dir, "gitops-apiserver"); err != nil {
		return nil, err
	}
	steps := []func() error{
		func() (err error) {
			p.kubeServing, err = p.serverCA.Serving(dir, "kube-apiserver", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
			return
		},
		func() (err error) { p.admin, err = p.clientCA.Client(dir, "admin", "admin", "system:masters"); return },
		func() (err error) {
			p.gitopsClient, err = p.clientCA.Client(dir, "gitops-apiserver-client", GitOpsUser, "system:serviceaccounts", "system:serviceaccounts:flux-system")
			return
		},
		func() (err error) {
			p.frontProxyClient, err = p.frontProxyCA.Client(dir, "front-proxy-client", FrontProxyUser)
			return
		},
		func() (err error) {
			p.gitopsServing, err = p.gitopsCA.Serving(dir, "gitops-apiserver-serving", "localhost", ServiceDNSName)
			return
		},
		func() (err error) {
			p.controllerManager, err = p.clientCA.Client(dir, "kube-controller-manager", "system:kube-controller-manager")
			return
		},
		func() (err error) {
			p.scheduler, err = p.clientCA.Client(dir, "kube-scheduler", "system:kube-scheduler")
			return
		},
		func() error { return deploy.WriteRSAKey(p.serviceAccountKey) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return p, nil
}
