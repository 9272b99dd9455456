package servingbench_test

import (
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// clientKinds are the two OpenAI streaming clients, by name.
var clientKinds = []struct {
	name string
	new  func(servingbench.OpenAIConfig) (*servingbench.StreamClient, error)
}{
	{"completions", servingbench.NewCompletions},
	{"chat", servingbench.NewChat},
}

// streamClient is a client of one backend with a stream layout of its
// protocol, as the fault matrix and the end-to-end tests run them.
type streamClient struct {
	name   string // "completions/vllm", "tgi"
	new    func(servingbench.OpenAIConfig) (*servingbench.StreamClient, error)
	layout func(*servingtest.Model)
	proto  servingtest.Protocol
}

// streamClients are every backend's client with every layout of its
// protocol: the OpenAI clients with vLLM's layout (finish_reason on the
// last token chunk, usage in its own chunk) and llama.cpp's (a finish
// chunk with usage inline), and each native protocol's client.
func streamClients() []streamClient {
	vllm := func(*servingtest.Model) {}
	llamacpp := func(m *servingtest.Model) { m.Usage, m.FinishChunk = servingtest.UsageInline, true }
	return []streamClient{
		{"completions/vllm", servingbench.NewCompletions, vllm, servingtest.ProtocolOpenAI},
		{"completions/llama.cpp", servingbench.NewCompletions, llamacpp, servingtest.ProtocolOpenAI},
		{"chat/vllm", servingbench.NewChat, vllm, servingtest.ProtocolOpenAI},
		{"chat/llama.cpp", servingbench.NewChat, llamacpp, servingtest.ProtocolOpenAI},
		{"tgi", servingbench.NewTGI, vllm, servingtest.ProtocolTGI},
		{"llama.cpp-native", servingbench.NewLlamaCppNative, vllm, servingtest.ProtocolLlamaCpp},
		{"tensorrt-llm", newTensorRTLLMCounted, vllm, servingtest.ProtocolTensorRTLLM},
		{"sglang-native", servingbench.NewSGLangNative, vllm, servingtest.ProtocolSGLang},
		{"ollama", servingbench.NewOllama, vllm, servingtest.ProtocolOllama},
		{"ollama-chat", servingbench.NewOllamaChat, vllm, servingtest.ProtocolOllama},
	}
}

// newTensorRTLLMCounted is NewTensorRTLLM with the simulated server's
// tokenizer: Triton reports no counts, so the tokenizer counts the prompt
// and the text, exactly (wantOutputSource).
func newTensorRTLLMCounted(cfg servingbench.OpenAIConfig) (*servingbench.StreamClient, error) {
	cfg.Tokenizer = servingtest.WordTokenizer{}
	return servingbench.NewTensorRTLLM(cfg)
}

// wantOutputSource is where a complete stream's output count comes from
// on protocol p: the server's count, but for Triton's generate_stream,
// which has none (the client's tokenizer).
func wantOutputSource(p servingtest.Protocol) servingbench.CountSource {
	if p == servingtest.ProtocolTensorRTLLM {
		return servingbench.SourceTokenizer
	}
	return servingbench.SourceUsage
}
