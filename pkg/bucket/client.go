// Package bucket reads S3-compatible object storage for the Bucket source:
// it lists a bucket (under a prefix, after Flux's ignore rules), computes
// Flux's revision of that listing, and downloads the objects into a
// directory. It speaks S3 through github.com/minio/minio-go/v7, as Flux's
// generic and aws providers do.
package bucket

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/tlsconfig"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Providers this package implements.
const (
	ProviderGeneric = "generic"
	ProviderAWS     = "aws"
)

// Secret keys Flux documents for a Bucket's secretRef, certSecretRef and
// proxySecretRef.
const (
	AccessKeyKey = "accesskey"
	SecretKeyKey = "secretkey"
	CACertKey    = "ca.crt"
	TLSCertKey   = "tls.crt"
	TLSKeyKey    = "tls.key"
	ProxyAddress = "address"
	ProxyUser    = "username"
	ProxyPass    = "password"
)

// ErrAuthentication is wrapped by errors that mean the server rejected the
// credentials (or that the credentials Secret is unusable).
var ErrAuthentication = errors.New("authentication failed")

// ErrBucketNotFound is wrapped when the bucket does not exist.
var ErrBucketNotFound = errors.New("bucket not found")

// Credentials are static S3 credentials.
type Credentials struct {
	AccessKey, SecretKey string
}

// Options say which bucket to read and how.
type Options struct {
	// Provider is ProviderGeneric (the default when empty) or ProviderAWS.
	Provider string
	// Endpoint is host[:port]; an http:// or https:// prefix is accepted.
	Endpoint string
	// Bucket is the bucket's name.
	Bucket string
	// Insecure allows plain HTTP.
	Insecure bool
	// Region of the bucket; empty lets the client ask the server.
	Region string
	// Prefix filters the listing server-side. Keys keep the prefix.
	Prefix string
	// Credentials, when nil, mean anonymous access (generic) or the AWS
	// instance/IRSA credential chain (aws).
	Credentials *Credentials
	// TLS, when set, verifies the server and presents a client certificate.
	TLS *tls.Config
	// Proxy, when set, is the HTTP(S) proxy to use; otherwise the
	// environment's proxy settings apply.
	Proxy *url.URL
	// Ignore holds spec.ignore (lines in .gitignore syntax).
	Ignore []string
	// MaxSize caps the total size of the objects fetched; 0 means no cap.
	MaxSize int64
}

// Client reads one bucket.
type Client struct {
	opts Options
	mc   *minio.Client
}

// New returns a client for opts. It does not contact the server.
func New(opts Options) (*Client, error) {
	if opts.Provider == "" {
		opts.Provider = ProviderGeneric
	}
	if opts.Provider != ProviderGeneric && opts.Provider != ProviderAWS {
		return nil, fmt.Errorf("provider '%s' is not supported by this client", opts.Provider)
	}
	endpoint, secure, err := parseEndpoint(opts.Endpoint, opts.Insecure)
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// A netguard.Guard in the request's context refuses networks at dial time.
	transport.DialContext = netguard.DialContext
	if opts.TLS != nil {
		transport.TLSClientConfig = opts.TLS.Clone()
	}
	if opts.Proxy != nil {
		transport.Proxy = http.ProxyURL(opts.Proxy)
	}
	var creds *credentials.Credentials
	switch {
	case opts.Credentials != nil:
		creds = credentials.NewStaticV4(opts.Credentials.AccessKey, opts.Credentials.SecretKey, "")
	case opts.Provider == ProviderAWS:
		creds = credentials.NewIAM("")
	default:
		creds = credentials.NewStaticV4("", "", "") // anonymous
	}
	mc, err := minio.New(endpoint, &minio.Options{
		Creds:     creds,
		Secure:    secure,
		Region:    opts.Region,
		Transport: transport,
		// Retries with backoff are the reconcile loop's job.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("invalid endpoint '%s': %w", opts.Endpoint, err)
	}
	return &Client{opts: opts, mc: mc}, nil
}

func parseEndpoint(endpoint string, insecure bool) (hostPort string, secure bool, err error) {
	if endpoint == "" {
		return "", false, errors.New("endpoint is empty")
	}
	scheme := ""
	if i := strings.Index(endpoint, "://"); i >= 0 {
		u, err := url.Parse(endpoint)
		if err != nil {
			return "", false, fmt.Errorf("invalid endpoint '%s': %w", endpoint, err)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return "", false, fmt.Errorf("invalid endpoint '%s': only a scheme, host and port are allowed", endpoint)
		}
		scheme, endpoint = u.Scheme, u.Host
	}
	switch scheme {
	case "":
		return endpoint, !insecure, nil
	case "https":
		return endpoint, true, nil
	case "http":
		if !insecure {
			return "", false, errors.New("endpoint is plain HTTP but insecure is false; set spec.insecure: true to allow it")
		}
		return endpoint, false, nil
	}
	return "", false, fmt.Errorf("invalid endpoint scheme '%s'; use http or https", scheme)
}

// CredentialsFromSecret reads accesskey and secretkey from a Secret's data.
// Its errors never hold the values.
func CredentialsFromSecret(data map[string][]byte) (*Credentials, error) {
	ak, sk := strings.TrimSpace(string(data[AccessKeyKey])), strings.TrimSpace(string(data[SecretKeyKey]))
	var missing []string
	if ak == "" {
		missing = append(missing, AccessKeyKey)
	}
	if sk == "" {
		missing = append(missing, SecretKeyKey)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: the secret has no %s", ErrAuthentication, strings.Join(missing, " and "))
	}
	return &Credentials{AccessKey: ak, SecretKey: sk}, nil
}

// TLSFromSecret builds a TLS configuration from ca.crt and/or tls.crt and
// tls.key (PEM), as in a certSecretRef.
func TLSFromSecret(data map[string][]byte) (*tls.Config, error) {
	return tlsconfig.FromSecret(data)
}

// ProxyFromSecret reads address, username and password, as in a
// proxySecretRef.
func ProxyFromSecret(data map[string][]byte) (*url.URL, error) {
	addr := strings.TrimSpace(string(data[ProxyAddress]))
	if addr == "" {
		return nil, fmt.Errorf("the secret has no %s", ProxyAddress)
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("invalid proxy %s: want a URL such as http://proxy:3128", ProxyAddress)
	}
	if user := string(data[ProxyUser]); user != "" {
		u.User = url.UserPassword(user, string(data[ProxyPass]))
	}
	return u, nil
}
