package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync/atomic"

	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
)

// downloadConcurrency is how many objects are fetched at once.
const downloadConcurrency = 4

// ErrChanged is wrapped when an object changed between the listing and its
// download, so the files would not match the revision; a retry lists again.
var ErrChanged = errors.New("object changed while fetching")

// Download fetches the objects of ix into dir (which must exist), each at
// its key. It refuses an index larger than MaxSize before fetching, and
// stops when the bytes received exceed it (an object may have grown); such
// errors wrap artifact.ErrTooLarge. Each object is fetched only if its ETag
// is still the listed one.
func (c *Client) Download(ctx context.Context, ix *Index, dir string) error {
	if max := c.opts.MaxSize; max > 0 && ix.Size() > max {
		return fmt.Errorf("%w: the objects of bucket '%s' total %d bytes, more than the limit of %d",
			artifact.ErrTooLarge, c.opts.Bucket, ix.Size(), max)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()

	var budget atomic.Int64
	budget.Store(c.opts.MaxSize)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(downloadConcurrency)
	for _, o := range ix.Objects {
		g.Go(func() error { return c.fetch(gctx, root, o, &budget) })
	}
	return g.Wait()
}

func (c *Client) fetch(ctx context.Context, root *os.Root, o Object, budget *atomic.Int64) error {
	opts := minio.GetObjectOptions{}
	if o.ETag != "" {
		_ = opts.SetMatchETag(o.ETag)
	}
	obj, err := c.mc.GetObject(ctx, c.opts.Bucket, o.Key, opts)
	if err != nil {
		return c.wrap(fmt.Sprintf("fetching '%s' from bucket '%s'", o.Key, c.opts.Bucket), err)
	}
	defer obj.Close()
	if dir := path.Dir(o.Key); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("writing '%s': %w", o.Key, err)
		}
	}
	f, err := root.OpenFile(o.Key, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("writing '%s': %w", o.Key, err)
	}
	var r io.Reader = obj
	limited := c.opts.MaxSize > 0
	if limited {
		r = io.LimitReader(obj, budget.Load()+1)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if minio.ToErrorResponse(err).Code == "PreconditionFailed" {
			return fmt.Errorf("%w: '%s' in bucket '%s'", ErrChanged, o.Key, c.opts.Bucket)
		}
		return c.wrap(fmt.Sprintf("fetching '%s' from bucket '%s'", o.Key, c.opts.Bucket), err)
	}
	if limited && budget.Add(-n) < 0 {
		return fmt.Errorf("%w: the objects of bucket '%s' exceed the limit of %d bytes", artifact.ErrTooLarge, c.opts.Bucket, c.opts.MaxSize)
	}
	return nil
}
