package artifact

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArchive_IgnoreRules(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		ignore []string
		want   []string
	}{
		{
			name: "default exclusions apply when the tree and spec give no patterns",
			files: map[string]string{
				"deploy/app.yaml": "a", "README.md": "r",
				".git/config": "c", ".gitignore": "g", ".gitmodules": "m", ".gitattributes": "t",
				"logo.png": "p", "docs/pic.JPG.jpg": "j", "bundle.tar.gz": "z", "x.zip": "z",
				".github/workflows/ci.yaml": "ci", "sub/.circleci/config.yml": "ci", ".travis.yml": "t",
				".gitlab-ci.yml": "g", "appveyor.yml": "a", ".drone.yml": "d", "cloudbuild.yaml": "c",
				"codeship-services.yml": "c", "codeship-steps.yml": "c",
				".goreleaser.yml": "g", "sub/.sops.yaml": "s", "deep/er/.flux.yaml": "f",
			},
			want: []string{"README.md", "deep/", "deep/er/", "deploy/", "deploy/app.yaml", "docs/", "sub/"},
		},
		{
			name: "spec.ignore replaces the defaults but not the VCS exclusions",
			files: map[string]string{
				"deploy/app.yaml": "a", "logo.png": "p", ".github/ci.yaml": "c", ".gitignore": "g",
			},
			ignore: []string{"*.yaml"},
			want:   []string{".github/", "deploy/", "logo.png"},
		},
		{
			name: "spec.ignore in Flux's documented example",
			files: map[string]string{
				"deploy/app.yaml": "a", "deploy/docs/notes.md": "n", "deploy/x/y.txt": "t",
				"other/a.yaml": "o", "top.yaml": "t",
			},
			ignore: []string{"# exclude all\n/*\n# include deploy dir\n!/deploy\n" +
				"# exclude file extensions from deploy dir\n/deploy/**/*.md\n/deploy/**/*.txt\n"},
			want: []string{"deploy/", "deploy/app.yaml", "deploy/docs/", "deploy/x/"},
		},
		{
			name:  "a root .sourceignore replaces the defaults",
			files: map[string]string{".sourceignore": "*.txt\n", "a.txt": "a", "b.yaml": "b", "logo.png": "p"},
			want:  []string{".sourceignore", "b.yaml", "logo.png"},
		},
		{
			name: "a nested .sourceignore applies only to its directory",
			files: map[string]string{
				"sub/.sourceignore": "# yaml only here\n*.yaml\n", "sub/a.yaml": "a", "sub/b.json": "b",
				"sub/deeper/c.yaml": "c", "top.yaml": "t",
			},
			want: []string{"sub/", "sub/.sourceignore", "sub/b.json", "sub/deeper/", "top.yaml"},
		},
		{
			name: "an inner .sourceignore overrides an outer one",
			files: map[string]string{
				".sourceignore": "*.yaml\n", "sub/.sourceignore": "!keep.yaml\n",
				"drop.yaml": "d", "sub/keep.yaml": "k", "sub/other.yaml": "o",
			},
			want: []string{".sourceignore", "sub/", "sub/.sourceignore", "sub/keep.yaml"},
		},
		{
			name:   "spec.ignore overrides .sourceignore files",
			files:  map[string]string{".sourceignore": "*.yaml\n", "keep.yaml": "k", "drop.yaml": "d"},
			ignore: []string{"!keep.yaml", ".sourceignore"},
			want:   []string{"keep.yaml"},
		},
		{
			name:   "a negation re-includes a file inside an excluded directory",
			files:  map[string]string{"vendor/keep.yaml": "k", "vendor/drop.yaml": "d", "app.yaml": "a"},
			ignore: []string{"vendor/", "!vendor/keep.yaml"},
			want:   []string{"app.yaml", "vendor/", "vendor/keep.yaml"},
		},
		{
			name:   "blank lines and comments in spec.ignore are not patterns",
			files:  map[string]string{"logo.png": "p", "a.yaml": "a"},
			ignore: []string{"", "# a comment", "   "},
			want:   []string{"a.yaml"}, // no patterns at all, so the defaults still apply
		},
		{
			name:   "an excluded directory is left out with everything in it",
			files:  map[string]string{"charts/a/Chart.yaml": "c", "charts/a/templates/x.yaml": "x", "app.yaml": "a"},
			ignore: []string{"charts/"},
			want:   []string{"app.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			got := archiveNames(t, archiveBytes(t, dir, ArchiveOptions{Ignore: tt.ignore}))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("archived entries (-want +got):\n%s", diff)
			}
		})
	}
}
