// Package k8s holds the Kubernetes manifests for sharded runs (issue 16):
// pvc.yaml, the shared ReadWriteMany volume for the result files;
// shards-job.yaml, an Indexed Job of N servingbench clients, each running
// --shard $(JOB_COMPLETION_INDEX)/N of one schedule from a shared
// --start-at; merge-job.yaml, the follow-up Job that runs servingbench
// merge over the N files; bench-job.yaml, the same N shards as go test
// -bench runs of a test binary with SERVINGBENCH_SHARD; and the
// Dockerfile of their images. The package has no code: its test decodes
// the manifests strictly into the Kubernetes API types and checks the
// invariants that tie them together, with no cluster.
package k8s
