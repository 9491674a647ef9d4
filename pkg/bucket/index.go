package bucket

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/minio/minio-go/v7"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
)

// maxIgnoreFileSize bounds the .sourceignore object that is read.
const maxIgnoreFileSize = 1 << 20

// Object is one object of a listing.
type Object struct {
	Key  string
	ETag string
	Size int64
}

// Index is a bucket's listing after the ignore rules: what a revision is
// computed from and what Download fetches.
type Index struct {
	// Objects are sorted by key.
	Objects []Object
	// Patterns are the ignore patterns that were applied besides the
	// built-in ones: the .sourceignore object's lines, then spec.ignore.
	// Pass them to artifact.ArchiveOptions.Ignore so the archive applies
	// the same rules.
	Patterns []string
}

// Revision is Flux's revision of a listing: "sha256:" and the hex SHA-256
// of one "<key> <etag>\n" line per object, sorted by key.
func (ix *Index) Revision() string {
	h := sha256.New()
	for _, o := range ix.Objects {
		fmt.Fprintf(h, "%s %s\n", o.Key, o.ETag)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Size is the total size of the listed objects.
func (ix *Index) Size() int64 {
	var n int64
	for _, o := range ix.Objects {
		n += o.Size
	}
	return n
}

// Index lists the bucket: it checks that the bucket exists, reads the
// .sourceignore object at the bucket's root (whatever the prefix), lists
// every object under the prefix, and leaves out directory markers, the
// .sourceignore object and what the ignore rules exclude. A key that is not
// a clean relative path (absolute, with "." or ".." segments, or empty
// segments) fails the listing with artifact.ErrUnsafePath.
func (c *Client) Index(ctx context.Context) (*Index, error) {
	exists, err := c.mc.BucketExists(ctx, c.opts.Bucket)
	if err != nil {
		return nil, c.wrap(fmt.Sprintf("failed to confirm existence of '%s' bucket", c.opts.Bucket), err)
	}
	if !exists {
		return nil, fmt.Errorf("%w: bucket '%s' not found", ErrBucketNotFound, c.opts.Bucket)
	}
	sourceIgnore, err := c.readSourceIgnore(ctx)
	if err != nil {
		return nil, err
	}
	ix := &Index{Patterns: append(sourceIgnore, c.opts.Ignore...)}
	matcher := newMatcher(ix.Patterns)

	for o := range c.mc.ListObjects(ctx, c.opts.Bucket, minio.ListObjectsOptions{Prefix: c.opts.Prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, c.wrap(fmt.Sprintf("listing objects from bucket '%s'", c.opts.Bucket), o.Err)
		}
		if strings.HasSuffix(o.Key, "/") || o.Key == artifact.SourceIgnoreFile {
			continue
		}
		if matcher.Match(strings.Split(o.Key, "/"), false) {
			continue
		}
		if !fs.ValidPath(o.Key) {
			return nil, fmt.Errorf("%w: object key '%s' in bucket '%s' is not a relative path without '.' or '..' segments",
				artifact.ErrUnsafePath, o.Key, c.opts.Bucket)
		}
		ix.Objects = append(ix.Objects, Object{Key: o.Key, ETag: o.ETag, Size: o.Size})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing objects from bucket '%s': %w", c.opts.Bucket, err)
	}
	sort.Slice(ix.Objects, func(i, j int) bool { return ix.Objects[i].Key < ix.Objects[j].Key })
	return ix, nil
}

// readSourceIgnore returns the lines of the .sourceignore object at the
// bucket's root, or none when there is no such object.
func (c *Client) readSourceIgnore(ctx context.Context) ([]string, error) {
	obj, err := c.mc.GetObject(ctx, c.opts.Bucket, artifact.SourceIgnoreFile, minio.GetObjectOptions{})
	if err == nil {
		defer obj.Close()
		var lines []string
		sc := bufio.NewScanner(io.LimitReader(obj, maxIgnoreFileSize+1))
		read := 0
		for sc.Scan() {
			read += len(sc.Bytes()) + 1
			if read > maxIgnoreFileSize {
				return nil, fmt.Errorf("the %s object is larger than 1 MiB", artifact.SourceIgnoreFile)
			}
			lines = append(lines, sc.Text())
		}
		err = sc.Err()
		if err == nil {
			return lines, nil
		}
	}
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return nil, nil
	}
	return nil, c.wrap(fmt.Sprintf("reading %s from bucket '%s'", artifact.SourceIgnoreFile, c.opts.Bucket), err)
}

// newMatcher builds Flux's rules for a bucket: the VCS exclusions always,
// the default exclusions only when there are no patterns of the bucket's or
// the spec's own, then those patterns (later ones take precedence). This is
// what pkg/artifact applies to a tree, so the archive agrees with the
// listing.
func newMatcher(patterns []string) gitignore.Matcher {
	parse := func(lines []string) []gitignore.Pattern {
		var out []gitignore.Pattern
		for _, chunk := range lines {
			for _, line := range strings.Split(chunk, "\n") {
				line = strings.TrimSuffix(line, "\r")
				if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
					continue
				}
				out = append(out, gitignore.ParsePattern(line, nil))
			}
		}
		return out
	}
	own := parse(patterns)
	all := parse(artifact.VCSExclusions)
	if len(own) == 0 {
		all = append(all, parse(artifact.DefaultExclusions)...)
	}
	return gitignore.NewMatcher(append(all, own...))
}

// authCodes are the S3 error codes that mean the credentials were rejected.
var authCodes = map[string]bool{
	"AccessDenied":          true,
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"InvalidSecurity":       true,
}

// wrap prefixes err with what was being done, marks rejected credentials
// with ErrAuthentication, and makes sure the secret key never shows.
func (c *Client) wrap(what string, err error) error {
	if authCodes[minio.ToErrorResponse(err).Code] {
		err = fmt.Errorf("%s: %w: %w", what, ErrAuthentication, err)
	} else {
		err = fmt.Errorf("%s: %w", what, err)
	}
	if cr := c.opts.Credentials; cr != nil && cr.SecretKey != "" && strings.Contains(err.Error(), cr.SecretKey) {
		return &redacted{msg: strings.ReplaceAll(err.Error(), cr.SecretKey, "<redacted>"), err: err}
	}
	return err
}

// redacted shows a scrubbed message but keeps the chain for errors.Is.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
