package tokenizer

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/servingbench/servingbench/internal/hftok/builtin"
)

// Load loads a tokenizer from, in order of trial:
//   - a tokenizer.json file (or a gzipped tokenizer.json.gz), with
//     tokenizer_config.json read from the same directory when present;
//   - a directory holding tokenizer.json (or tokenizer.json.gz), as a
//     model directory does;
//   - ORG/NAME in the HuggingFace cache: $HF_HUB_CACHE, $HF_HOME/hub,
//     $XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub, under
//     models--ORG--NAME/snapshots/REV/ (the revision in refs/main first).
//
// It never downloads. When nothing is found the error is a *NotFoundError.
func Load(pathOrName string) (*Tokenizer, error) {
	if pathOrName == "" {
		return nil, errors.New("tokenizer: Load: empty path or name")
	}
	var tried []string
	if fi, err := os.Stat(pathOrName); err == nil {
		if !fi.IsDir() {
			return loadFiles(pathOrName, pathOrName, filepath.Join(filepath.Dir(pathOrName), "tokenizer_config.json"))
		}
		for _, f := range []string{"tokenizer.json", "tokenizer.json.gz"} {
			p := filepath.Join(pathOrName, f)
			tried = append(tried, p)
			if fileExists(p) {
				return loadFiles(pathOrName, p, filepath.Join(pathOrName, "tokenizer_config.json"))
			}
		}
	} else {
		tried = append(tried, pathOrName)
	}
	if org, name, ok := hubName(pathOrName); ok {
		for _, hub := range hubCaches() {
			repo := filepath.Join(hub, "models--"+org+"--"+name)
			for _, snap := range snapshots(repo) {
				p := filepath.Join(snap, "tokenizer.json")
				tried = append(tried, p)
				if fileExists(p) {
					return loadFiles(pathOrName, p, filepath.Join(snap, "tokenizer_config.json"))
				}
			}
			if len(snapshots(repo)) == 0 {
				tried = append(tried, filepath.Join(repo, "snapshots", "*", "tokenizer.json"))
			}
		}
	}
	return nil, &NotFoundError{Name: pathOrName, Tried: tried}
}

var defaultTokenizer struct {
	once sync.Once
	tok  *Tokenizer
	err  error
}

// DefaultName is the Name of the built-in tokenizer Default returns.
const DefaultName = "builtin:qwen3"

// Default returns the built-in Qwen3 tokenizer (the Qwen2, Qwen2.5
// and Qwen3 vocabulary), embedded compressed in the binary. It is loaded
// once, on first use, and shared.
func Default() (*Tokenizer, error) {
	d := &defaultTokenizer
	d.once.Do(func() {
		tj, cj, err := builtin.Qwen3()
		if err != nil {
			d.err = err
			return
		}
		d.tok, d.err = newTokenizer(DefaultName, tj, cj)
		if d.err == nil {
			d.tok.templateFrom = DefaultName + " tokenizer_config.json"
		}
	})
	return d.tok, d.err
}

func loadFiles(name, tokenizerPath, configPath string) (*Tokenizer, error) {
	tj, err := readMaybeGzip(tokenizerPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	cj, err := os.ReadFile(configPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := newTokenizer(name, tj, cj)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", tokenizerPath, err)
	}
	t.path = tokenizerPath
	t.templateFrom = configPath
	if t.chatTemplate == "" { // newer transformers save it beside the config
		jinjaPath := filepath.Join(filepath.Dir(configPath), "chat_template.jinja")
		if b, err := os.ReadFile(jinjaPath); err == nil {
			t.chatTemplate, t.templateFrom = string(b), jinjaPath
		}
	}
	return t, nil
}

func readMaybeGzip(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return data, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if data, err = io.ReadAll(zr); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// hubName splits ORG/NAME (two non-empty parts, no path syntax).
func hubName(s string) (org, name string, ok bool) {
	org, name, ok = strings.Cut(s, "/")
	if !ok || org == "" || name == "" || strings.ContainsAny(name, "/\\") ||
		org == "." || org == ".." || strings.HasPrefix(s, "~") {
		return "", "", false
	}
	return org, name, true
}

// hubCaches lists the HuggingFace hub cache directories to search.
func hubCaches() []string {
	var dirs []string
	add := func(d string) {
		for _, x := range dirs {
			if x == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		add(d)
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		add(filepath.Join(d, "hub"))
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		add(filepath.Join(d, "huggingface", "hub"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, ".cache", "huggingface", "hub"))
	}
	return dirs
}

// snapshots lists a cached repository's snapshot directories, the one
// refs/main names first, then the rest newest first.
func snapshots(repo string) []string {
	entries, err := os.ReadDir(filepath.Join(repo, "snapshots"))
	if err != nil {
		return nil
	}
	main := ""
	if ref, err := os.ReadFile(filepath.Join(repo, "refs", "main")); err == nil {
		main = strings.TrimSpace(string(ref))
	}
	type snap struct {
		path string
		rank int64
	}
	var snaps []snap
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		s := snap{path: filepath.Join(repo, "snapshots", e.Name())}
		if info, err := e.Info(); err == nil {
			s.rank = info.ModTime().UnixNano()
		}
		if e.Name() == main {
			s.rank = 1<<63 - 1
		}
		snaps = append(snaps, s)
	}
	sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].rank > snaps[j].rank })
	out := make([]string, len(snaps))
	for i, s := range snaps {
		out[i] = s.path
	}
	return out
}
