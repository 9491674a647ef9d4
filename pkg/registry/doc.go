// Package registry holds the etcd-backed REST storage shared by every Flux
// kind: a Kind descriptor says what is special about one kind (its types,
// validation, table columns) and NewStorage turns it into the main resource
// plus its /status subresource. Per-group packages below declare the kinds.
package registry
