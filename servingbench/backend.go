package servingbench

import "fmt"

// BackendChat maps a vLLM --backend name to the API servingbench speaks to
// it: true for openai-chat (/v1/chat/completions); false for vllm, openai,
// sglang, lmdeploy, llama.cpp, scalellm and mindie (/v1/completions). Other
// names are an error; tgi, tensorrt-llm and deepspeed-mii name their native
// protocols, which servingbench does not speak (their OpenAI-compatible
// routes work with openai or openai-chat).
func BackendChat(backend string) (bool, error) {
	switch backend {
	case "openai-chat":
		return true, nil
	case "vllm", "openai", "sglang", "lmdeploy", "llama.cpp", "scalellm", "mindie":
		return false, nil
	case "tgi", "tensorrt-llm", "deepspeed-mii":
		return false, fmt.Errorf("backend %q uses that server's native protocol, which servingbench does not speak; use openai or openai-chat with its OpenAI-compatible routes", backend)
	}
	return false, fmt.Errorf("unknown backend %q (want vllm, openai, openai-chat, sglang, lmdeploy, llama.cpp, scalellm, mindie)", backend)
}
