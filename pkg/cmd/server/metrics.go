package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
)

var registerStoreOnce sync.Once

// registerStoreMetrics reports the artifact store's usage on /metrics (the
// registry is per process, so only the first store is registered).
func registerStoreMetrics(s *artifact.Store) error {
	var err error
	registerStoreOnce.Do(func() { err = legacyregistry.CustomRegister(artifact.NewStoreCollector(s)) })
	return err
}

// serveMetrics serves the server's registry (what /metrics on the secure
// port shows) over plain HTTP on addr until ctx is done, like Flux's
// controllers' --metrics-addr. It returns once listening, or the error of
// listening.
func serveMetrics(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", legacyregistry.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	go func() {
		klog.InfoS("Serving metrics", "address", ln.Addr().String())
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "Metrics server stopped", "address", ln.Addr().String())
		}
	}()
	return nil
}
