package servingbench

import (
	"fmt"
	"strings"
)

// Backend is what a --backend name selects: the API servingbench speaks to
// the server, its default endpoint and the client's constructor.
type Backend struct {
	// Name is the --backend name: vLLM's where vLLM has one.
	Name string
	// API names the protocol spoken: "openai-completions",
	// "openai-chat", "tgi-generate-stream", "llama.cpp-completion",
	// "triton-generate-stream" (tensorrt-llm), "sglang-generate",
	// "ollama-generate" or "ollama-chat" (several names share one API:
	// vLLM's vllm, openai, sglang, lmdeploy, llama.cpp, scalellm and
	// mindie all mean OpenAI completions).
	API string
	// Endpoint is the default request path.
	Endpoint string
	// New builds the client from an OpenAIConfig (BaseURL, Endpoint,
	// Model, sampling options, limits and timeouts apply to every API).
	New func(OpenAIConfig) (*StreamClient, error)
}

// Chat reports whether the backend speaks OpenAI chat completions, whose
// endpoint path must end in chat/completions.
func (b Backend) Chat() bool { return b.API == apiChat }

// The APIs of the backends.
const (
	apiCompletions = "openai-completions"
	apiChat        = "openai-chat"
	apiTGI         = "tgi-generate-stream"
	apiLlamaCpp    = "llama.cpp-completion"
	apiTensorRTLLM = "triton-generate-stream"
	apiSGLang      = "sglang-generate"
	apiOllama      = "ollama-generate"
	apiOllamaChat  = "ollama-chat"
)

// backends is every --backend name, in the order --help lists them. A
// native protocol adds its adapter file and one entry here.
var backends = []Backend{
	{Name: "vllm", API: apiCompletions, Endpoint: "/v1/completions", New: NewCompletions},
	{Name: "openai", API: apiCompletions, Endpoint: "/v1/completions", New: NewCompletions},
	{Name: "openai-chat", API: apiChat, Endpoint: "/v1/chat/completions", New: NewChat},
	{Name: "sglang", API: apiCompletions, Endpoint: "/v1/completions", New: NewCompletions},
	{Name: "lmdeploy", API: apiCompletions, Endpoint: "/v1/completions", New: NewCompletions},
	{Name: "llama.cpp", API: apiCompletions, Endpoint: "/v1/completions", New: NewCompletions},
	{Name: "scalellm", API: apiCompletions, Endpoint: "/v1/completions", New: NewCompletions},
	{Name: "mindie", API: apiCompletions, Endpoint: "/v1/completions", New: NewCompletions},
	{Name: "tgi", API: apiTGI, Endpoint: "/generate_stream", New: NewTGI},
	// llama.cpp's native API; vLLM's llama.cpp means its OpenAI route.
	{Name: "llama.cpp-native", API: apiLlamaCpp, Endpoint: "/completion", New: NewLlamaCppNative},
	{Name: "tensorrt-llm", API: apiTensorRTLLM, Endpoint: TensorRTLLMEndpoint, New: NewTensorRTLLM},
	// SGLang's native API; vLLM's sglang means its OpenAI route.
	{Name: "sglang-native", API: apiSGLang, Endpoint: "/generate", New: NewSGLangNative},
	{Name: "ollama", API: apiOllama, Endpoint: "/api/generate", New: NewOllama},
	{Name: "ollama-chat", API: apiOllamaChat, Endpoint: "/api/chat", New: NewOllamaChat},
}

// unsupportedBackends are vLLM --backend names of native protocols
// servingbench does not speak yet.
var unsupportedBackends = []string{"deepspeed-mii"}

// Backends returns every backend servingbench speaks, in --help's order.
func Backends() []Backend { return append([]Backend(nil), backends...) }

// BackendNames is the names of Backends, comma-separated.
func BackendNames() string {
	names := make([]string, len(backends))
	for i, b := range backends {
		names[i] = b.Name
	}
	return strings.Join(names, ", ")
}

// LookupBackend returns the backend of a --backend name. An unknown name
// is an error listing the known ones.
func LookupBackend(name string) (Backend, error) {
	for _, b := range backends {
		if b.Name == name {
			return b, nil
		}
	}
	for _, n := range unsupportedBackends {
		if n == name {
			return Backend{}, fmt.Errorf("backend %q uses that server's native protocol, which servingbench does not speak; use openai or openai-chat with its OpenAI-compatible routes", name)
		}
	}
	return Backend{}, fmt.Errorf("unknown backend %q (want %s)", name, BackendNames())
}

// BackendChat maps a vLLM --backend name to whether servingbench speaks
// OpenAI chat completions to it: true for openai-chat
// (/v1/chat/completions); false for every other backend (OpenAI
// completions and the native protocols). Unknown names are an error (see
// LookupBackend).
func BackendChat(backend string) (bool, error) {
	b, err := LookupBackend(backend)
	return b.Chat(), err
}
