package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/servingbench/servingbench/servingbench"
)

// checkResultPath makes sure, before the embedded server starts and before
// any request is sent, that --save-result can write its file: --result-dir
// is created if missing (as vLLM does) and must be a writable directory,
// and the directory part of --result-filename must exist. Without it a bad
// directory lost the result of a whole run.
func (o *options) checkResultPath() error {
	if !o.saveResult && !o.plot {
		return nil
	}
	if o.resultDir != "" {
		if fi, err := os.Stat(o.resultDir); err == nil && !fi.IsDir() {
			return usageError{fmt.Errorf("flag --result-dir: %q is not a directory", o.resultDir)}
		}
		if err := os.MkdirAll(o.resultDir, 0o755); err != nil {
			return usageError{fmt.Errorf("flag --result-dir: cannot create %q: %w", o.resultDir, unwrapPath(err))}
		}
	}
	flag, value, dir := "result-dir", o.resultDir, o.resultDir
	if o.resultFilename != "" {
		if base := filepath.Base(o.resultFilename); base == "." || base == ".." || os.IsPathSeparator(o.resultFilename[len(o.resultFilename)-1]) {
			return usageError{fmt.Errorf("flag --result-filename: %q names a directory, not a file", o.resultFilename)}
		}
		if sub := filepath.Dir(o.resultFilename); sub != "." {
			flag, value, dir = "result-filename", o.resultFilename, filepath.Join(o.resultDir, sub)
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return usageError{fmt.Errorf("flag --result-filename: the directory %q of %q does not exist or is not a directory", dir, value)}
			}
		}
	}
	if dir == "" {
		dir = "."
	}
	if err := servingbench.CheckWritableDir(dir); err != nil {
		if cause := errors.Unwrap(err); cause != nil {
			err = cause
		}
		if value == "" { // the current directory
			return usageError{fmt.Errorf("--save-result: cannot write into the current directory (no --result-dir given): %w", err)}
		}
		return usageError{fmt.Errorf("flag --%s %q: cannot write into %q: %w", flag, value, dir, err)}
	}
	return nil
}

// resultPath is where the result file of rep goes.
func (o *options) resultPath(rep *servingbench.Report) string {
	name := o.resultFilename
	if name == "" {
		name = servingbench.ResultFilename(rep)
	}
	return filepath.Join(o.resultDir, name)
}

// unwrapPath drops the *os.PathError around a cause the message already
// names the path of.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeFileAtomic writes a file as servingbench.WriteJSONFile writes a
// result: into a temporary file in path's directory, synced, then renamed
// over path, so that a failed write leaves no truncated file.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriter(f)
	if err := write(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
