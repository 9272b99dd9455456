// Package tokenizer loads HuggingFace tokenizers (tokenizer.json, with
// tokenizer_config.json when present) and encodes and decodes with the ids
// HuggingFace tokenizers gives, built on github.com/sugarme/tokenizer
// through internal/hftok.
//
// Where a tokenizer comes from:
//
//   - Load: a tokenizer.json file (or tokenizer.json.gz), a model directory
//     holding one, or ORG/NAME in the HuggingFace hub cache ($HF_HUB_CACHE,
//     $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub,
//     ~/.cache/huggingface/hub). Nothing found is a *NotFoundError listing
//     every path tried. Nothing is ever downloaded.
//   - Default: the built-in Qwen3 tokenizer (DefaultName), embedded in the
//     binary.
//   - Resolve(tokenizer, model): vLLM's rule (the tokenizer argument, else
//     the model, else Default), returning a Resolution: which input
//     matched (Source), the name (ID) and file (Path), whether the default
//     stands in (IsDefault) and why the model gave none (ModelErr). It
//     returns data, not messages; the CLI and benchtest word them.
//
// Tokenizer.ApplyChatTemplate renders a chat history with the model's
// chat template (tokenizer_config.json's chat_template) as transformers'
// apply_chat_template does, for the prompts of completions endpoints.
//
// Files: tokenizer.go (the Tokenizer type), load.go (Load, Default, the hub
// cache), resolve.go (Resolve), chattemplate.go (ApplyChatTemplate). The reference files under testdata (ids
// from HuggingFace tokenizers for Qwen3, Llama 3 and Llama 2, with their
// LICENSE and NOTICE files) are this package's tests'.
//
// A *Tokenizer is safe for concurrent use; so are Load, Default and
// Resolve.
package tokenizer
