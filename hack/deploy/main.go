// Command deploy writes the per-cluster part of a deployment: a serving
// certificate for the gitops-apiserver Service (as a kubernetes.io/tls
// Secret) and one APIService per served group version carrying its CA.
// hack/deploy.sh runs it and applies the result with artifacts/deploy.
package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apiserver"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/deploy"
)

func main() {
	out := flag.String("out-dir", "_output/deploy", "directory for the generated manifests and certificates")
	ns := flag.String("namespace", "flux-system", "namespace of the gitops-apiserver Service")
	svc := flag.String("service", "gitops-apiserver", "name of the gitops-apiserver Service")
	port := flag.Int("port", 443, "port of the gitops-apiserver Service")
	flag.Parse()
	if err := run(*out, *ns, *svc, int32(*port)); err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
		os.Exit(1)
	}
}

func run(out, ns, svc string, port int32) error {
	certDir := filepath.Join(out, "pki")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	ca, err := deploy.NewCA(certDir, "gitops-apiserver")
	if err != nil {
		return err
	}
	dnsName := svc + "." + ns + ".svc"
	kp, err := ca.Serving(certDir, "serving", dnsName, dnsName+".cluster.local")
	if err != nil {
		return err
	}
	secret, err := tlsSecret(ns, kp)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "tls-secret.yaml"), secret, 0o600); err != nil {
		return err
	}
	apiServices, err := deploy.APIServices(apiserver.GroupVersions(), deploy.Target{Namespace: ns, Service: svc, Port: port, CABundle: ca.PEM})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "apiservices.yaml"), apiServices, 0o644)
}

func tlsSecret(ns string, kp deploy.KeyPair) ([]byte, error) {
	crt, err := os.ReadFile(kp.CertFile)
	if err != nil {
		return nil, err
	}
	key, err := os.ReadFile(kp.KeyFile)
	if err != nil {
		return nil, err
	}
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: gitops-apiserver-tls
  namespace: %s
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
`, ns, base64.StdEncoding.EncodeToString(crt), base64.StdEncoding.EncodeToString(key))), nil
}
