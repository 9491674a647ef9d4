package framework

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certAuthority signs certificates for the local control plane.
type certAuthority struct {
	cert *x509.Certificate
	key  crypto.Signer
	// CertFile is the PEM file of the CA certificate.
	CertFile string
	// PEM is the CA certificate in PEM form (for caBundle).
	PEM []byte
}

// keyPair is a certificate and key written to disk.
type keyPair struct {
	CertFile string
	KeyFile  string
}

func newCA(dir, name string) (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &certAuthority{cert: cert, key: key, CertFile: filepath.Join(dir, name+"-ca.crt")}
	ca.PEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return ca, os.WriteFile(ca.CertFile, ca.PEM, 0o600)
}

// serving signs a server certificate for the given DNS names and loopback.
func (ca *certAuthority) serving(dir, name string, dnsNames ...string) (keyPair, error) {
	return ca.sign(dir, name, &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		DNSNames:    dnsNames,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}

// client signs a client certificate: CN is the user, O the groups.
func (ca *certAuthority) client(dir, file, user string, groups ...string) (keyPair, error) {
	return ca.sign(dir, file, &x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: groups},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

func (ca *certAuthority) sign(dir, name string, tmpl *x509.Certificate) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, err
	}
	tmpl.SerialNumber = serial()
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(365 * 24 * time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return keyPair{}, err
	}
	kp := keyPair{CertFile: filepath.Join(dir, name+".crt"), KeyFile: filepath.Join(dir, name+".key")}
	if err := os.WriteFile(kp.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return keyPair{}, err
	}
	return kp, writeKey(kp.KeyFile, key)
}

// writeServiceAccountKey writes the RSA key kube-apiserver signs tokens with.
func writeServiceAccountKey(file string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	return writeKey(file, key)
}

func writeKey(file string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding key: %w", err)
	}
	return os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

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
	serverCA, clientCA, frontProxyCA, gitopsCA *certAuthority

	kubeServing, admin, gitopsClient, frontProxyClient, gitopsServing keyPair
	serviceAccountKey                                                 string
}

func newPKI(dir string) (*pki, error) {
	p := &pki{serviceAccountKey: filepath.Join(dir, "service-account.key")}
	var err error
	if p.serverCA, err = newCA(dir, "server"); err != nil {
		return nil, err
	}
	if p.clientCA, err = newCA(dir, "client"); err != nil {
		return nil, err
	}
	if p.frontProxyCA, err = newCA(dir, "front-proxy"); err != nil {
		return nil, err
	}
	if p.gitopsCA, err = newCA(dir, "gitops-apiserver"); err != nil {
		return nil, err
	}
	steps := []func() error{
		func() (err error) {
			p.kubeServing, err = p.serverCA.serving(dir, "kube-apiserver", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
			return
		},
		func() (err error) { p.admin, err = p.clientCA.client(dir, "admin", "admin", "system:masters"); return },
		func() (err error) {
			p.gitopsClient, err = p.clientCA.client(dir, "gitops-apiserver-client", GitOpsUser, "system:serviceaccounts", "system:serviceaccounts:flux-system")
			return
		},
		func() (err error) {
			p.frontProxyClient, err = p.frontProxyCA.client(dir, "front-proxy-client", FrontProxyUser)
			return
		},
		func() (err error) {
			p.gitopsServing, err = p.gitopsCA.serving(dir, "gitops-apiserver-serving", "localhost", ServiceDNSName)
			return
		},
		func() error { return writeServiceAccountKey(p.serviceAccountKey) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return p, nil
}
