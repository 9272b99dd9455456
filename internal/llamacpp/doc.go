// Package llamacpp runs a real llama.cpp llama-server for the conformance
// suite: a tiny generated model with the Qwen3 vocabulary, served on CPU
// from Debian sid's llama.cpp-tools as .ci/install-llamacpp installs it
// (unpacked under DefaultHome and run through sid's own dynamic loader, so
// it works on an older Debian without touching the system).
//
// Require finds the install or applies the suite's skip rules (see
// Decide); Serve starts a server on a free 127.0.0.1 port with --metrics
// for one test and stops it when the test ends; ParseMetrics reads the
// server's /metrics counters.
//
// The conformance tests themselves (conformance_test.go) drive
// servingbench's real clients and runner against the server: both
// endpoints and both positions of usage, concurrency 1, 4 and 16 on 4
// slots, and compare every count and latency with what the server itself
// reports (usage, timings and /metrics counters); conformance_native_test.go
// does the same through the native /completion (the llama.cpp-native
// backend) at concurrency 1 and 4.
//
// Install and Server are safe for concurrent use; a Server must be closed
// once.
package llamacpp
