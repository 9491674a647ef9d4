package reconcile

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	imagev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	notificationv1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1"
	notificationv1beta3 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1beta3"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// Issue "No field silently ignored": every spec field a reconciled kind
// accepts either works or makes the worker stall with a message naming it.

// reconciledKinds have a worker. Every JSON path of their spec must be in
// their table: used (a named test exercises it), refused (proved here: the
// worker stalls naming it) or informational (the apiVersion of a reference,
// which Flux itself only records, or one of informationalFields). Entries
// marked ignored (nothing reads the field) or untested (read, but no test
// names it) fail until the code or a test is written. Their tables and
// harnesses are in specfields_*_test.go.
var reconciledKinds = []specKind{
	{name: "GitRepository", spec: reflect.TypeFor[sourcev1.GitRepositorySpec](), fields: gitRepositoryFields, harness: gitRepositoryHarness},
	{name: "OCIRepository", spec: reflect.TypeFor[sourcev1.OCIRepositorySpec](), fields: ociRepositoryFields, harness: ociRepositoryHarness},
	{name: "Bucket", spec: reflect.TypeFor[sourcev1.BucketSpec](), fields: bucketFields, harness: bucketHarness},
	{name: "HelmRepository", spec: reflect.TypeFor[sourcev1.HelmRepositorySpec](), fields: helmRepositoryFields, harness: helmRepositoryHarness},
	{name: "HelmChart", spec: reflect.TypeFor[sourcev1.HelmChartSpec](), fields: helmChartFields, harness: helmChartHarness},
	{name: "Kustomization", spec: reflect.TypeFor[kustomizev1.KustomizationSpec](), fields: kustomizationFields, harness: kustomizationHarness},
	{name: "HelmRelease", spec: reflect.TypeFor[helmv2.HelmReleaseSpec](), fields: helmReleaseFields, harness: helmReleaseHarness},
	{name: "Receiver", spec: reflect.TypeFor[notificationv1.ReceiverSpec](), fields: receiverFields, harness: receiverHarness},
	{name: "ImageRepository", spec: reflect.TypeFor[imagev1.ImageRepositorySpec](), fields: imageRepositoryFields, harness: imageRepositoryHarness},
	{name: "ImagePolicy", spec: reflect.TypeFor[imagev1.ImagePolicySpec](), fields: imagePolicyFields, harness: imagePolicyHarness},
	{name: "ImageUpdateAutomation", spec: reflect.TypeFor[imagev1.ImageUpdateAutomationSpec](), fields: imageUpdateAutomationFields,
		harness: imageUpdateAutomationHarness},
}

// notReconciledYet are served without a loop worker. Their fields are
// counted or, for the kinds given a table, checked like the reconciled
// kinds' except that nothing can be refused with a stall: without a worker
// there is no status (Alerts and Providers, which Flux v1beta3 gives no
// status either, are read by the in-process event dispatcher; a field it
// refuses names the test that proves the refusal). When a kind gets a
// worker (TestSpecFields_ReconciledKindsHaveWorkers notices), move it up
// and give it a harness.
var notReconciledYet = []specKind{
	{name: "Alert", spec: reflect.TypeFor[notificationv1beta3.AlertSpec](), fields: alertFields},
	{name: "Provider", spec: reflect.TypeFor[notificationv1beta3.ProviderSpec](), fields: providerFields},
}

// specKind is a kind, the Go type of its versioned spec, what is known of
// each spec field (once the kind has a table) and, for a kind with a
// worker, the harness that runs it.
type specKind struct {
	name    string
	spec    reflect.Type
	fields  map[string]field
	harness harness
}

// harness runs a kind's real reconciler on loopback fakes.
type harness struct {
	// object returns a minimal valid object of the kind, as a pointer.
	object func() any
	// reconcile runs the worker once on obj; it returns the result and
	// the conditions.
	reconcile func(t *testing.T, obj any) (loop.Result, []metav1.Condition)
}

// field is what one spec field does; exactly one member is set.
type field struct {
	// test names a Test function (anywhere in the repository) that
	// exercises the field.
	test string
	// refusal says how the worker refuses the field.
	refusal *refusal
	// ignoredBecause says why nothing reads the field: a bug to fix.
	ignoredBecause string
	// untestedAt says where a used field is read, when no test exercises it.
	untestedAt string
	// informationalBecause says why a field may be accepted and only
	// recorded: allowed for the apiVersion of a reference (a "...Ref"
	// object), which Flux treats the same way, and for the few fields of
	// informationalFields.
	informationalBecause string
}

// refusal is a refused field: set to value (a sample when nil), the worker
// must stall with a Ready message containing needle.
type refusal struct {
	needle string
	value  any
}

func used(test string) field { return field{test: test} }
func refused(needle string, value any) field {
	return field{refusal: &refusal{needle: needle, value: value}}
}
func ignored(reason string) field { return field{ignoredBecause: reason} }
func untested(where string) field { return field{untestedAt: where} }
func informational(reason string) field {
	return field{informationalBecause: reason}
}

// informationalFields are the fields besides references' apiVersions
// that may be only recorded ("<kind> <path>"), with why no value could
// change what the worker does.
var informationalFields = map[string]string{
	"HelmRelease spec.persistentClient": "Flux's switch between a client kept for the whole reconciliation and one " +
		"made per Helm action; this server's clients are always kept (cached per target cluster and identity by " +
		"pkg/reconcile/target and pkg/helmrelease.Clusters), so false has nothing to turn off",
	"HelmRepository spec.accessFrom.namespaceSelectors[].matchLabels": "Flux documents it as \"Not implemented, " +
		"provisional as of https://github.com/fluxcd/flux2/pull/2092\" (source.toolkit.fluxcd.io/v1 HelmRepositorySpec): " +
		"source-controller enforces nothing, and no kind refers to a HelmRepository across namespaces (a HelmChart's " +
		"sourceRef is local; a HelmRelease's chart template makes its HelmChart in the source's namespace)",
	"Provider spec.interval": "deprecated and not used in notification.toolkit.fluxcd.io/v1beta3 (Flux's API " +
		"reference): a Provider has no reconciliation, its spec and Secrets are read at each delivery",
	"Alert spec.eventSources[].apiVersion": "notification-controller matches events by kind, name, namespace and " +
		"labels (eventMatchesAlert); the apiVersion is only recorded",
	"Receiver spec.resources[].apiVersion": "Flux uses it only to pick which served version of the kind to annotate; " +
		"every version is the same object, and this server reconciles the kind through its /reconcile subresource",
}

// isInformational says whether path of kind may be marked informational.
func isInformational(kind, path string) bool {
	return isReferenceAPIVersion(path) || informationalFields[kind+" "+path] != ""
}

// isReferenceAPIVersion says whether path is the apiVersion of a reference:
// "spec.sourceRef.apiVersion", "spec.chart.spec.sourceRef.apiVersion".
func isReferenceAPIVersion(path string) bool {
	parent, last, ok := cutLast(path)
	if !ok || last != "apiVersion" {
		return false
	}
	_, ref, _ := cutLast(parent)
	return strings.HasSuffix(strings.TrimSuffix(ref, "[]"), "Ref")
}

// cutLast splits a path at its last dot.
func cutLast(path string) (string, string, bool) {
	i := strings.LastIndex(path, ".")
	if i < 0 {
		return "", path, false
	}
	return path[:i], path[i+1:], true
}

func TestSpecFields_EveryFieldIsUsedOrRefused(t *testing.T) {
	tests := testNames(t)
	for _, k := range reconciledKinds {
		t.Run(k.name, func(t *testing.T) {
			// The minimal object must not stall, so that a stall in a proof
			// is the field's doing.
			if _, conds := k.harness.reconcile(t, k.harness.object()); condition(conds, "Stalled") != nil {
				t.Fatalf("the minimal %s stalls: %s", k.name, condition(conds, "Stalled").Message)
			}
			checkFields(t, k, tests)
		})
	}
	for _, k := range notReconciledYet {
		if k.fields == nil {
			t.Logf("%s is not reconciled yet: %d spec fields unchecked", k.name, len(specPaths(k.spec)))
			continue
		}
		t.Run(k.name, func(t *testing.T) { checkFields(t, k, tests) })
	}
}

// checkFields checks k's table against the paths of its spec.
func checkFields(t *testing.T, k specKind, tests map[string]bool) {
	paths := specPaths(k.spec)
	for _, p := range paths {
		f, ok := k.fields[p]
		switch {
		case !ok:
			t.Errorf("%s %s is not classified: name a test that exercises it, make the worker refuse it, or list it as ignored", k.name, p)
		case f.test != "":
			if !tests[f.test] {
				t.Errorf("%s %s: no func %s( in any _test.go file", k.name, p, f.test)
			}
		case f.refusal != nil && k.harness.reconcile == nil:
			t.Errorf("%s %s: %s has no worker to stall; name the test that proves the refusal", k.name, p, k.name)
		case f.refusal != nil:
			t.Run(p, func(t *testing.T) { proveRefusal(t, k, p, *f.refusal) })
		case f.ignoredBecause != "":
			t.Errorf("%s %s is accepted but silently ignored (%s): implement it or make the worker stall naming it",
				k.name, p, f.ignoredBecause)
		case f.untestedAt != "":
			t.Errorf("%s %s is read (%s) but no test exercises it", k.name, p, f.untestedAt)
		case f.informationalBecause != "":
			if !isInformational(k.name, p) {
				t.Errorf("%s %s is marked informational (%s), which only the apiVersion of a reference (or a field of informationalFields) may be",
					k.name, p, f.informationalBecause)
			}
		default:
			t.Errorf("%s %s: empty table entry", k.name, p)
		}
	}
	for p := range k.fields {
		if !slices.Contains(paths, p) {
			t.Errorf("%s: table entry %s is not a spec field (renamed or removed?)", k.name, p)
		}
	}
}

// proveRefusal sets path on a minimal object, runs the worker and checks
// it stalled naming the field.
func proveRefusal(t *testing.T, k specKind, path string, r refusal) {
	obj := k.harness.object()
	setField(t, obj, path, r.value)
	_, conds := k.harness.reconcile(t, obj)
	ready, stalled := condition(conds, "Ready"), condition(conds, "Stalled")
	if ready == nil || ready.Status != metav1.ConditionFalse || stalled == nil || stalled.Status != metav1.ConditionTrue {
		t.Fatalf("with %s set: Ready %+v, Stalled %+v; want Ready=False and Stalled=True", path, ready, stalled)
	}
	if !strings.Contains(ready.Message, r.needle) {
		t.Errorf("with %s set: Ready message %q does not name %q", path, ready.Message, r.needle)
	}
}

func condition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// TestSpecFields_ReconciledKindsHaveWorkers keeps reconciledKinds honest:
// it is exactly the kinds the manager builds a worker for.
func TestSpecFields_ReconciledKindsHaveWorkers(t *testing.T) {
	var want []string
	for _, k := range reconciledKinds {
		want = append(want, k.name)
	}
	got := controllerKinds(t)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the manager runs workers for %v; reconciledKinds lists %v: move the kind between reconciledKinds and notReconciledYet", got, want)
	}
}
