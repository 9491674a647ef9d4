// Package imageupdate updates image references in a Git working tree and commits and
// pushes the result, with the semantics of Flux's image-automation-controller (the
// ImageUpdateAutomation "Setters" strategy). It knows no API types of this server.
//
// Setters. Apply rewrites the YAML files (.yaml, .yml) under a directory where a scalar
// carries a marker comment naming an image policy:
//
//	image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}        image:tag[@digest]
//	repository: ghcr.io/org/app  # {"$imagepolicy": "flux-system:app:name"}   the image name
//	tag: 1.0.0                   # {"$imagepolicy": "flux-system:app:tag"}    the tag
//	digest: sha256:…             # {"$imagepolicy": "flux-system:app:digest"} the digest
//
// Markers naming a policy that is not given (or a digest the policy has not reflected)
// are left alone. Files are read and located with kyaml (sigs.k8s.io/kustomize/kyaml):
// the documents are parsed into nodes, the markers found in their line comments and each
// object identified by its apiVersion/kind/namespace/name. The file is then changed only
// at the bytes of the marked scalars, in their quoting style (a plain scalar whose new
// value would read as a number or boolean is double-quoted), so comments, blank lines,
// indentation and every other byte stay as they were; re-serialising through kyaml, as
// Flux does, drops blank lines and re-indents. Files that are not valid YAML, or whose
// marker sits on a scalar that cannot be rewritten in place (a block scalar), are not
// changed and are listed in Result.Skipped. Apply walks the directory through os.Root:
// symbolic links are never followed (files they reach inside the directory are updated
// under their real path) and .git directories are skipped. Each changed file is replaced
// atomically. Result tells, per file and object, every value changed (old → new) and with
// which setter; it is the data of the commit message template.
//
// Commit message. RenderMessage executes a messageTemplate (Go text/template with the
// Sprig functions, minus those reading the environment or the network, and with size
// limits) over TemplateData (AutomationObject, Changed, Values, as Flux's v1 API); an
// empty template gives DefaultMessage. The v1beta1 "Updated" data is gone, as in Flux's
// v1 API: templates using it fail.
//
// Commit and push. A working tree comes from git.CheckoutForPush (shallow, with a local
// branch to commit on). Commit stages every change (git add -A) and commits it with the
// given author, optionally signed with an armored OpenPGP key; nothing is committed when
// the tree is clean. Push pushes the branch and/or a refspec with git.Push, using the
// checkout's credentials, Guard and timeout; push options are sent when the server takes
// them. Errors never contain credentials or key material.
package imageupdate
