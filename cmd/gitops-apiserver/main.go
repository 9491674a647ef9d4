// Command gitops-apiserver serves the Flux GitOps API as a Kubernetes
// aggregated API server and runs the workers that reconcile it.
package main

import (
	"os"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/cmd/server"
)

func main() {
	ctx := genericapiserver.SetupSignalContext()
	os.Exit(cli.Run(server.NewCommand(ctx)))
}
