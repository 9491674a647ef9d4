package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/inspect"
)

var kustomizationKind = &Kind{
	Resource: "kustomizations", GroupKind: kustomize.Kind("Kustomization"), Versions: []string{"v1"},
	New: func() runtime.Object { return &kustomize.Kustomization{} },
}

// objects is a rest.Getter holding Kustomizations by name.
type objects map[string]bool

func (o objects) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if !o[name] {
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: kustomize.GroupName, Resource: "kustomizations"}, name)
	}
	ns, _ := genericapirequest.NamespaceFrom(ctx)
	return &kustomize.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}, nil
}

type differFunc func(ctx context.Context, kind, namespace, name string) (*inspect.DiffReport, error)

func (f differFunc) Diff(ctx context.Context, kind, namespace, name string) (*inspect.DiffReport, error) {
	return f(ctx, kind, namespace, name)
}

type treeFunc func(ctx context.Context, kind, namespace, name string) (*inspect.Tree, error)

func (f treeFunc) Tree(ctx context.Context, kind, namespace, name string) (*inspect.Tree, error) {
	return f(ctx, kind, namespace, name)
}

// responder records the error a handler answers with.
type responder struct {
	w   http.ResponseWriter
	err error
}

func (r *responder) Object(code int, _ runtime.Object) { r.w.WriteHeader(code) }
func (r *responder) Error(err error) {
	r.err = err
	r.w.WriteHeader(int(err.(apierrors.APIStatus).Status().Code))
}

// get runs a connect handler the way the API machinery does.
func get(t *testing.T, connect func(ctx context.Context, name string, r *responder) (http.Handler, error), name, query string) (*httptest.ResponseRecorder, error) {
	t.Helper()
	ctx := genericapirequest.WithNamespace(context.Background(), "flux-system")
	rec := httptest.NewRecorder()
	resp := &responder{w: rec}
	h, err := connect(ctx, name, resp)
	if err != nil {
		t.Fatal(err)
	}
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/diff?"+query, nil))
	return rec, resp.err
}

func diffConnect(d Differ) func(context.Context, string, *responder) (http.Handler, error) {
	r := NewDiffREST(kustomizationKind, objects{"apps": true}, d)
	return func(ctx context.Context, name string, resp *responder) (http.Handler, error) {
		return r.Connect(ctx, name, nil, resp)
	}
}

func TestDiffREST_Answers(t *testing.T) {
	report := func(context.Context, string, string, string) (*inspect.DiffReport, error) {
		return &inspect.DiffReport{Revision: "main@sha1:1a2b", Objects: []inspect.ObjectDiff{{
			Object: inspect.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "podinfo"}, Action: inspect.ActionCreated,
		}}}, nil
	}
	cases := []struct {
		name, object, query string
		differ              Differ
		code                int
		contentType, body   string
	}{
		{"json by default", "apps", "", differFunc(report), 200, "application/json",
			`{"kind":"DiffReport","apiVersion":"inspect.gitops-apiserver.io/v1alpha1","object":{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","namespace":"flux-system","name":"apps"},"revision":"main@sha1:1a2b","objects":[{"object":{"apiVersion":"v1","kind":"Namespace","name":"podinfo"},"action":"created"}]}`},
		{"text", "apps", "format=text", differFunc(report), 200, "text/plain; charset=utf-8",
			"Kustomization/flux-system/apps at main@sha1:1a2b\n► Namespace/podinfo created\n"},
		{"unknown format", "apps", "format=yaml", differFunc(report), 400, "", `unknown format "yaml"`},
		{"missing object", "gone", "", differFunc(report), 404, "", `"gone" not found`},
		{"no differ", "apps", "", nil, 503, "", "workers, which are not running"},
		{"status errors pass through", "apps", "", differFunc(func(context.Context, string, string, string) (*inspect.DiffReport, error) {
			return nil, fmt.Errorf("wrapped: %w", apierrors.NewMethodNotSupported(schema.GroupResource{Group: helm.GroupName, Resource: "helmreleases"}, "diff"))
		}), 405, "", "diff is not supported"},
		{"other errors are 500", "apps", "", differFunc(func(context.Context, string, string, string) (*inspect.DiffReport, error) {
			return nil, errors.New("building kustomization.yaml: boom")
		}), 500, "", "boom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := get(t, diffConnect(tc.differ), tc.object, tc.query)
			if rec.Code != tc.code {
				t.Fatalf("code = %d, want %d (err %v)", rec.Code, tc.code, err)
			}
			if tc.code != 200 {
				if err == nil || !strings.Contains(err.Error(), tc.body) {
					t.Errorf("error %v does not contain %q", err, tc.body)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", ct, tc.contentType)
			}
			if got := strings.TrimSuffix(rec.Body.String(), "\n"); got != strings.TrimSuffix(tc.body, "\n") {
				t.Errorf("body\n%s\nwant\n%s", got, tc.body)
			}
		})
	}
}

func TestTreeREST_Answers(t *testing.T) {
	tree := &inspect.Tree{Kind: inspect.TreeKind, APIVersion: inspect.APIVersion, Root: inspect.TreeNode{
		Object:   inspect.ObjectRef{Kind: "Kustomization", Namespace: "flux-system", Name: "apps"},
		Children: []inspect.TreeNode{{Object: inspect.ObjectRef{Kind: "Namespace", Name: "podinfo"}}},
	}}
	var gotKind, gotNamespace string
	builder := treeFunc(func(_ context.Context, kind, namespace, name string) (*inspect.Tree, error) {
		gotKind, gotNamespace = kind, namespace
		if name == "raced" {
			return nil, fmt.Errorf("Kustomization/flux-system/raced: %w", inspect.ErrNotFound)
		}
		return tree, nil
	})
	r := NewTreeREST(kustomizationKind, objects{"apps": true, "raced": true}, builder)
	connect := func(ctx context.Context, name string, resp *responder) (http.Handler, error) {
		return r.Connect(ctx, name, nil, resp)
	}

	rec, err := get(t, connect, "apps", "format=text")
	if err != nil || rec.Body.String() != "Kustomization/flux-system/apps\n└── Namespace/podinfo\n" {
		t.Errorf("text: err %v, body\n%s", err, rec.Body.String())
	}
	if gotKind != "Kustomization" || gotNamespace != "flux-system" {
		t.Errorf("builder called with %s %s", gotKind, gotNamespace)
	}
	rec, err = get(t, connect, "apps", "format=json")
	var decoded inspect.Tree
	if err != nil || json.Unmarshal(rec.Body.Bytes(), &decoded) != nil || decoded.Root.Children[0].Object.Name != "podinfo" {
		t.Errorf("json: err %v, body %s", err, rec.Body.String())
	}
	if rec, _ = get(t, connect, "raced", ""); rec.Code != 404 {
		t.Errorf("deleted while building: code %d", rec.Code)
	}
	nilBuilder := NewTreeREST(kustomizationKind, objects{"apps": true}, nil)
	if rec, _ = get(t, func(ctx context.Context, name string, resp *responder) (http.Handler, error) {
		return nilBuilder.Connect(ctx, name, nil, resp)
	}, "apps", ""); rec.Code != 503 {
		t.Errorf("no builder: code %d", rec.Code)
	}
}

func TestDiffREST_BoundsConcurrencyAndSize(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, maxConcurrentDiffs)
	big := strings.Repeat("+ line of a large object\n", maxObjectDiffBytes/10)
	slow := differFunc(func(context.Context, string, string, string) (*inspect.DiffReport, error) {
		started <- struct{}{}
		<-release
		var objs []inspect.ObjectDiff
		for i := 0; i < 60; i++ {
			objs = append(objs, inspect.ObjectDiff{Object: inspect.ObjectRef{Kind: "ConfigMap", Name: fmt.Sprint(i)}, Action: inspect.ActionConfigured, Diff: big})
		}
		return &inspect.DiffReport{Objects: objs}, nil
	})
	connect := diffConnect(slow)
	done := make(chan *httptest.ResponseRecorder, maxConcurrentDiffs)
	for i := 0; i < maxConcurrentDiffs; i++ {
		go func() {
			rec, _ := get(t, connect, "apps", "")
			done <- rec
		}()
	}
	for i := 0; i < maxConcurrentDiffs; i++ {
		<-started
	}
	if rec, err := get(t, connect, "apps", ""); rec.Code != http.StatusTooManyRequests {
		t.Errorf("a diff past the limit: %d %v", rec.Code, err)
	}
	close(release)
	for i := 0; i < maxConcurrentDiffs; i++ {
		rec := <-done
		if rec.Code != 200 {
			t.Fatalf("code %d", rec.Code)
		}
		var report inspect.DiffReport
		if err := json.Unmarshal(rec.Body.Bytes(), &report); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, o := range report.Objects {
			if len(o.Diff) > maxObjectDiffBytes+100 {
				t.Errorf("%s: a diff of %d bytes", o.Object.Name, len(o.Diff))
			}
			total += len(o.Diff)
		}
		if total > maxReportDiffBytes+maxObjectDiffBytes+100*len(report.Objects) || !strings.Contains(rec.Body.String(), "left out") {
			t.Errorf("report diffs total %d bytes", total)
		}
	}
}
