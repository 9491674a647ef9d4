package image_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/image"
)

func TestTagStore_SurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := image.NewTagStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("default/app"); !errors.Is(err, image.ErrNoTags) {
		t.Fatalf("Get of a missing key: err = %v, want ErrNoTags", err)
	}
	if err := s.Put("default/app", []string{"1.0.0", "latest"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("default/app", []string{"1.1.0", "1.0.0", "latest"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("other/app", []string{}); err != nil {
		t.Fatal(err)
	}

	reopened, err := image.NewTagStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reopened.Get("default/app")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1.1.0", "1.0.0", "latest"}; !slices.Equal(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
	empty, err := reopened.Get("other/app")
	if err != nil || len(empty) != 0 {
		t.Errorf("empty list = %v, %v; want [], nil", empty, err)
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(filepath.Join(dir, "default"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "app.tags" {
		t.Errorf("files = %v, want only app.tags", entries)
	}

	if err := reopened.Delete("default/app"); err != nil {
		t.Fatal(err)
	}
	if _, err := reopened.Get("default/app"); !errors.Is(err, image.ErrNoTags) {
		t.Errorf("after Delete: err = %v, want ErrNoTags", err)
	}
	if err := reopened.Delete("default/app"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestTagStore_RejectsKeysThatEscape(t *testing.T) {
	s, err := image.NewTagStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "app", "../app", "ns/../../etc", "ns/a/b", "/ns/app", "ns/.hidden", "ns/..", "NS/app", "ns/"} {
		if err := s.Put(key, []string{"1"}); !errors.Is(err, image.ErrInvalidOptions) {
			t.Errorf("Put(%q): err = %v, want ErrInvalidOptions", key, err)
		}
		if _, err := s.Get(key); !errors.Is(err, image.ErrInvalidOptions) {
			t.Errorf("Get(%q): err = %v, want ErrInvalidOptions", key, err)
		}
	}
	if err := s.Put("ns/app", []string{"ok", "bad\ntag"}); !errors.Is(err, image.ErrInvalidOptions) {
		t.Errorf("a tag with a newline: err = %v, want ErrInvalidOptions", err)
	}
}
