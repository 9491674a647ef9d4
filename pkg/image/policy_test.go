package image_test

import (
	"errors"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/image"
)

func mustSemVer(t *testing.T, r string) image.Policy {
	t.Helper()
	p, err := image.NewSemVer(r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustAlpha(t *testing.T, order string) image.Policy {
	t.Helper()
	p, err := image.NewAlphabetical(order)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustNum(t *testing.T, order string) image.Policy {
	t.Helper()
	p, err := image.NewNumerical(order)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustFilter(t *testing.T, pattern, extract string) *image.TagFilter {
	t.Helper()
	f, err := image.NewTagFilter(pattern, extract)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSelectLatest_AppliesFilterAndPolicy(t *testing.T) {
	shaTags := []string{"main-abc123-1700000300", "main-def456-1700000900", "main-0a1b2c-1700000100", "dev-fff000-1800000000", "latest"}
	tests := []struct {
		name    string
		tags    []string
		filter  *image.TagFilter
		policy  image.Policy
		want    string
		wantErr error
	}{
		{"semver highest", []string{"1.0.0", "1.2.0", "1.10.0", "latest"}, nil, mustSemVer(t, ">=1.0.0"), "1.10.0", nil},
		{"semver range caps", []string{"5.0.3", "5.1.2", "5.1.4", "6.0.0"}, nil, mustSemVer(t, "5.1.x"), "5.1.4", nil},
		{"semver leading v", []string{"v1.0.0", "v1.1.0", "1.0.5"}, nil, mustSemVer(t, ">=1.0.0"), "v1.1.0", nil},
		{"semver skips prereleases by default", []string{"1.0.0", "1.1.0-rc.1"}, nil, mustSemVer(t, ">=1.0.0"), "1.0.0", nil},
		{"semver prereleases in range", []string{"1.0.0", "1.1.0-rc.1", "1.1.0-rc.2"}, nil, mustSemVer(t, ">=1.0.0-0"), "1.1.0-rc.2", nil},
		{"semver equal versions tie-break", []string{"v1.0.0", "1.0.0", "1.0"}, nil, mustSemVer(t, "1.x"), "v1.0.0", nil},
		{"semver nothing in range", []string{"0.1.0", "latest"}, nil, mustSemVer(t, ">=1.0.0"), "", image.ErrNoMatch},
		{"semver with filter", []string{"1.0.0-rc.1", "1.0.0", "1.1.0-rc.1"}, mustFilter(t, ".*-rc.*", ""), mustSemVer(t, "^1.x-0"), "1.1.0-rc.1", nil},
		{"alphabetical asc is greatest", []string{"a", "c", "b"}, nil, mustAlpha(t, "asc"), "c", nil},
		{"alphabetical default is asc", []string{"a", "c", "b"}, nil, mustAlpha(t, ""), "c", nil},
		{"alphabetical desc is smallest", []string{"b", "a", "c"}, nil, mustAlpha(t, "desc"), "a", nil},
		{"alphabetical RFC3339 extract", []string{"RELEASE.2024-01-02T10-00-00Z", "RELEASE.2024-03-01T00-00-00Z", "latest"},
			mustFilter(t, `^RELEASE\.(?P<timestamp>.*)Z$`, "$timestamp"), mustAlpha(t, "asc"), "RELEASE.2024-03-01T00-00-00Z", nil},
		{"numerical asc", []string{"1", "10", "9"}, nil, mustNum(t, "asc"), "10", nil},
		{"numerical desc", []string{"3", "10", "2.5"}, nil, mustNum(t, "desc"), "2.5", nil},
		{"numerical rejects non-numbers", []string{"1", "latest"}, nil, mustNum(t, "asc"), "", image.ErrNoMatch},
		{"numerical extract timestamp", shaTags, mustFilter(t, `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts"), mustNum(t, "asc"), "main-def456-1700000900", nil},
		{"numerical extract by index", shaTags, mustFilter(t, `^main-[a-f0-9]+-([0-9]+)`, "${1}"), mustNum(t, "desc"), "main-0a1b2c-1700000100", nil},
		{"filter without extract compares tags", shaTags, mustFilter(t, `^main-`, ""), mustAlpha(t, "asc"), "main-def456-1700000900", nil},
		{"filter matches nothing", shaTags, mustFilter(t, `^release-`, ""), mustAlpha(t, "asc"), "", image.ErrNoMatch},
		{"no tags", nil, nil, mustAlpha(t, "asc"), "", image.ErrNoMatch},
		{"same extracted value keeps greatest tag", []string{"b-1", "a-1"}, mustFilter(t, `-(\d)$`, "$1"), mustNum(t, "asc"), "b-1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := image.SelectLatest(tt.tags, tt.filter, tt.policy)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("latest = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPolicies_RejectInvalidSpecs(t *testing.T) {
	tests := []struct {
		name string
		make func() error
	}{
		{"semver range", func() error { _, err := image.NewSemVer("not a range"); return err }},
		{"alphabetical order", func() error { _, err := image.NewAlphabetical("up"); return err }},
		{"numerical order", func() error { _, err := image.NewNumerical("ASC"); return err }},
		{"filter pattern", func() error { _, err := image.NewTagFilter("(", ""); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.make(); !errors.Is(err, image.ErrInvalidOptions) {
				t.Fatalf("err = %v, want ErrInvalidOptions", err)
			}
		})
	}
}
