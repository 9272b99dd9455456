// Package target resolves the server a benchmark measures, for the CLI
// (cmd/servingbench) and benchtest alike: a base URL, or the embedded
// simulated server (servingtest) with a profile and a speed; the
// tokenizer (scenarios/tokenizer's Resolve); the client built from a
// scenario; and the server's identity (GET /version).
//
// One set of defaults (Spec's zero value): the simulated fp16 profile at
// 10x speed (DefaultSimSpeed) and the built-in Qwen3 HuggingFace tokenizer,
// which the simulated server also counts prompt tokens with, so that
// measured and served counts agree.
//
// Validate checks a Spec without starting anything; Open resolves it
// (tokenizer first, the simulated server last). Errors name the Spec field
// (*FieldError) and hold the value, so that each caller words them in its
// own terms: the CLI as flags (--base-url), benchtest as environment
// variables (SERVINGBENCH_BASE_URL). Nothing here prints.
//
// A *Target is safe for concurrent use.
package target
