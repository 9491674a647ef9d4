// Package reconcile runs the in-process workers that reconcile Flux objects.
// The manager lists every controller explicitly; later issues add them.
package reconcile

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// Options configure the workers.
type Options struct {
	// Disabled turns every worker off, leaving a pure API server.
	Disabled bool
}

// Controller is one worker loop.
type Controller interface {
	// Name identifies the controller in logs and metrics.
	Name() string
	// Run works until ctx is done.
	Run(ctx context.Context) error
}

// Manager starts the controllers.
type Manager struct {
	opts Options
}

// NewManager returns a manager for opts.
func NewManager(opts Options) *Manager {
	return &Manager{opts: opts}
}

// controllers returns the controllers to run, built over the loopback
// client configuration (never through kube-apiserver).
func (m *Manager) controllers(_ *rest.Config) ([]Controller, error) {
	return nil, nil
}

// Start builds the controllers and runs each in its own goroutine until ctx
// is done. It returns once they are started.
func (m *Manager) Start(ctx context.Context, loopback *rest.Config) error {
	if m.opts.Disabled {
		klog.InfoS("Workers disabled")
		return nil
	}
	controllers, err := m.controllers(loopback)
	if err != nil {
		return fmt.Errorf("building controllers: %w", err)
	}
	for _, c := range controllers {
		go func() {
			if err := c.Run(ctx); err != nil && ctx.Err() == nil {
				klog.ErrorS(err, "Controller stopped", "controller", c.Name())
			}
		}()
	}
	return nil
}
