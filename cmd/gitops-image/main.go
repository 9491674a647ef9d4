// Command gitops-image builds gitops-apiserver's container image without a
// container engine, and pushes it: `make image` and `make push` run it
// through hack/image.sh.
//
//	gitops-image build --binary linux/amd64=PATH [--binary linux/arm64=PATH ...] --out DIR \
//	    --ca-certificates FILE --source URL --revision SHA --version V --created UNIX|RFC3339
//	gitops-image push --layout DIR REGISTRY/REPOSITORY[:TAG]
//
// The image is two layers on nothing (no base image, so no distribution
// and no shell): the files a Go program needs (passwd and group entries for
// the non-root user 65532, CA certificates, nsswitch.conf, /tmp and the
// data directory) and the static binary. Each platform's image goes into
// one OCI image index, written as an OCI layout; push sends that index with
// the credentials of the Docker config (~/.docker/config.json, $DOCKER_CONFIG).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "build":
		err = runBuild(os.Args[2:])
	case "push":
		err = runPush(ctx, os.Args[2:])
	case "-h", "--help", "help":
		usage()
		return
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitops-image:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  gitops-image build --binary OS/ARCH[/VARIANT]=PATH... --out DIR [flags]   (build -h for flags)
  gitops-image push --layout DIR REGISTRY/REPOSITORY[:TAG]`)
}

func runBuild(args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	var o BuildOptions
	var binaries binaryFlag
	var created string
	fs.Var(&binaries, "binary", "OS/ARCH[/VARIANT]=PATH of a static gitops-apiserver binary for that platform (repeat for more platforms)")
	fs.StringVar(&o.Out, "out", "_output/image/oci", "OCI layout directory to write (replaced)")
	fs.StringVar(&o.CACertificates, "ca-certificates", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates to install as /etc/ssl/certs/ca-certificates.crt")
	fs.StringVar(&o.Labels.Source, "source", defaultSource, "org.opencontainers.image.source")
	fs.StringVar(&o.Labels.Revision, "revision", "", "org.opencontainers.image.revision (the commit)")
	fs.StringVar(&o.Labels.Version, "version", "", "org.opencontainers.image.version, also the layout's ref name")
	fs.StringVar(&created, "created", "", "org.opencontainers.image.created and every file's time: Unix seconds or RFC 3339 (e.g. the commit's time, for reproducible images)")
	fs.StringVar(&o.DockerArchiveDir, "docker-archive-dir", "", "also write one `docker load` tarball per platform here (gitops-apiserver-OS-ARCH.tar)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("build: unexpected arguments %q", fs.Args())
	}
	o.Binaries = binaries
	t, err := parseTime(created)
	if err != nil {
		return fmt.Errorf("--created: %w", err)
	}
	o.Labels.Created = t
	start := time.Now()
	res, err := Build(o)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: index %s, %d platform(s), %s compressed, in %s\n",
		o.Out, res.Digest, len(o.Binaries), humanBytes(res.CompressedSize), time.Since(start).Round(100*time.Millisecond))
	return nil
}

func runPush(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	layoutDir := fs.String("layout", "_output/image/oci", "OCI layout written by `gitops-image build`")
	insecure := fs.Bool("insecure", false, "allow plain HTTP to the registry (loopback and private addresses always may)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("push: want one image reference (REGISTRY/REPOSITORY[:TAG]), got %q", fs.Args())
	}
	pushed, err := Push(ctx, *layoutDir, fs.Arg(0), *insecure)
	if err != nil {
		return err
	}
	// The last line is the reference to deploy (digest-pinned).
	fmt.Println(pushed)
	return nil
}

// binaryFlag collects --binary OS/ARCH=PATH values.
type binaryFlag []PlatformBinary

func (b *binaryFlag) String() string { return fmt.Sprint(*b) }

func (b *binaryFlag) Set(v string) error {
	p, err := ParsePlatformBinary(v)
	if err != nil {
		return err
	}
	*b = append(*b, p)
	return nil
}

// parseTime reads Unix seconds or RFC 3339; empty means now.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC().Truncate(time.Second), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Parse(time.RFC3339, strings.TrimSpace(s))
}

func humanBytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
