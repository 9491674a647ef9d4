package artifact

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// SourceIgnoreFile is the name of the per-directory ignore file that Flux
// reads from a source tree. Its patterns apply to the directory holding it
// and everything below.
const SourceIgnoreFile = ".sourceignore"

// Flux source-controller's default exclusion list, as documented for
// GitRepository ("Default exclusions") and shared by Bucket. Kept as data so
// a reader can compare it with Flux's documentation line by line.
var (
	// VCSExclusions always apply, whatever other rules say.
	VCSExclusions = []string{".git/", ".gitignore", ".gitmodules", ".gitattributes"}

	// DefaultExclusions apply only when a tree has no ignore rules of its
	// own (no patterns in any .sourceignore file and none in spec.ignore).
	DefaultExclusions = concat(
		// File extensions.
		[]string{"*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip"},
		// CI configuration.
		[]string{".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml",
			".drone.yml", "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml"},
		// CLI configuration and the Flux v1 config file, at any depth.
		[]string{"**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml"},
	)
)

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// ignoreRules decides which paths of a tree are left out of an archive.
// Paths are slash-separated and relative to the tree's root.
type ignoreRules struct {
	matcher gitignore.Matcher
	// negations is true when some pattern re-includes paths ("!pattern").
	// Without one, an excluded directory can be skipped whole; with one, a
	// file below it may still be included (go-git matches every path prefix,
	// as Flux does), so the walk has to look inside.
	negations bool
}

// newIgnoreRules builds the rules for a tree whose .sourceignore files hold
// sourceIgnore (in walk order, each with its directory as domain) and whose
// object spec gives spec. It follows what Flux source-controller does:
//
//   - with no patterns at all: VCS exclusions plus the default exclusions;
//   - otherwise: VCS exclusions, then .sourceignore patterns (outer
//     directories first), then spec patterns, later ones taking precedence.
//
// So a .sourceignore or spec.ignore replaces the default list rather than
// adding to it, and can re-include what the defaults would have left out.
func newIgnoreRules(sourceIgnore []parsedPattern, spec []string) ignoreRules {
	var ps []parsedPattern
	ps = append(ps, sourceIgnore...)
	ps = append(ps, parsePatterns(spec, nil)...)

	var all []parsedPattern
	all = append(all, parsePatterns(VCSExclusions, nil)...)
	if len(ps) == 0 {
		all = append(all, parsePatterns(DefaultExclusions, nil)...)
	}
	all = append(all, ps...)

	r := ignoreRules{}
	patterns := make([]gitignore.Pattern, 0, len(all))
	for _, p := range all {
		patterns = append(patterns, p.pattern)
		r.negations = r.negations || p.negation
	}
	r.matcher = gitignore.NewMatcher(patterns)
	return r
}

// ignored reports whether the slash-separated relative path rel is excluded.
func (r ignoreRules) ignored(rel string, isDir bool) bool {
	return r.matcher.Match(strings.Split(rel, "/"), isDir)
}

// parsedPattern is one gitignore pattern with what the matcher hides.
type parsedPattern struct {
	pattern  gitignore.Pattern
	negation bool
}

// parsePatterns parses lines in .gitignore syntax; an element may itself hold
// several lines. Blank lines and comments are skipped, as Flux does.
func parsePatterns(lines []string, domain []string) []parsedPattern {
	var out []parsedPattern
	for _, chunk := range lines {
		for _, line := range strings.Split(chunk, "\n") {
			line = strings.TrimSuffix(line, "\r")
			if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
				continue
			}
			out = append(out, parsedPattern{
				pattern:  gitignore.ParsePattern(line, domain),
				negation: strings.HasPrefix(line, "!"),
			})
		}
	}
	return out
}

// loadSourceIgnore reads every .sourceignore file under root (the real,
// symlink-free path of the tree), outer directories first, skipping .git.
// Each file's patterns are scoped to its directory. A .sourceignore that is
// not a regular file (a symlink, say) is ignored rather than followed.
func loadSourceIgnore(root string) ([]parsedPattern, error) {
	var out []parsedPattern
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" && p != root {
			return filepath.SkipDir
		}
		if d.Name() != SourceIgnoreFile || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		var domain []string
		if rel != "." {
			domain = strings.Split(filepath.ToSlash(rel), "/")
		}
		lines, err := readLines(p)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path.Join(filepath.ToSlash(rel), SourceIgnoreFile), err)
		}
		out = append(out, parsePatterns(lines, domain)...)
		return nil
	})
	return out, err
}

// maxIgnoreFileSize bounds a .sourceignore file; a bigger one is surely not
// a list of patterns and would only cost memory.
const maxIgnoreFileSize = 1 << 20

func readLines(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(io.LimitReader(f, maxIgnoreFileSize+1))
	read := 0
	for sc.Scan() {
		read += len(sc.Bytes()) + 1
		if read > maxIgnoreFileSize {
			return nil, errors.New("ignore file is larger than 1 MiB")
		}
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}
