package servingtest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/servingbench/servingbench/servingbench/servingtest"
)

func ExampleNewServer() {
	srv := servingtest.NewServer(servingtest.Model{Name: "tiny", TokensPerChunk: 2, Seed: 7})
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(
		`{"model":"tiny","prompt":"Hello there","max_tokens":5,"stream":true,`+
			`"stream_options":{"include_usage":true}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			fmt.Println(data)
			break
		}
		var c struct {
			Choices []struct {
				Text         string  `json:"text"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			fmt.Println(err)
			return
		}
		switch {
		case len(c.Choices) > 0 && c.Choices[0].FinishReason != nil:
			fmt.Printf("text %q finish_reason %s\n", c.Choices[0].Text, *c.Choices[0].FinishReason)
		case len(c.Choices) > 0:
			fmt.Printf("text %q\n", c.Choices[0].Text)
		case c.Usage != nil:
			fmt.Printf("usage: prompt_tokens %d, completion_tokens %d\n", c.Usage.PromptTokens, c.Usage.CompletionTokens)
		}
	}

	rec := srv.Truth()[0]
	fmt.Printf("truth: %d output tokens in chunks of %v, fault %v\n", rec.OutputTokens, rec.ChunkTokens, rec.Fault)
	// Output:
	// text/event-stream
	// text " field milk"
	// text " at memory"
	// text " fair" finish_reason length
	// usage: prompt_tokens 2, completion_tokens 5
	// [DONE]
	// truth: 5 output tokens in chunks of [2 2 1], fault none
}

func ExampleFault() {
	srv := servingtest.NewServer(servingtest.Model{Faults: []servingtest.Fault{
		{Kind: servingtest.FaultRateLimit, Every: 2},
	}})
	defer srv.Close()
	for range 3 {
		resp, err := http.Post(srv.URL+"/v1/completions", "application/json",
			strings.NewReader(`{"prompt":"hi","max_tokens":2}`))
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Printf("%d Retry-After=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, r := range srv.Truth() {
		fmt.Println(r.Index, r.Fault)
	}
	// Output:
	// 200 Retry-After=""
	// 429 Retry-After="1"
	// 200 Retry-After=""
	// 1 none
	// 2 http-429
	// 3 none
}
