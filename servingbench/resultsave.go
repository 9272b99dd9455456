package servingbench

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// resultFileMode is the mode of a saved result file (Python's open(path,
// "w") under the usual umask).
const resultFileMode = 0o644

// WriteJSONFile writes r to the file at path as WriteJSON does, atomically:
// into a temporary file in path's directory, synced, then renamed over
// path. A failed write leaves neither a truncated file nor a temporary one,
// and an older file at path stays as it was. The directory must exist
// (CheckWritableDir checks it before a run). A descriptor shortage
// (EMFILE) is returned as a *ClientLimitError in the chain.
func WriteJSONFile(path string, r *Report, opt JSONOptions) (err error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("servingbench: writing the result: %q names a directory, not a file", path)
	}
	f, err := os.CreateTemp(cmpOrDot(dir), "."+base+".*.tmp")
	if err != nil {
		return resultFileError(path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriter(f)
	if err := WriteJSON(w, r, opt); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return resultFileError(path, err)
	}
	if err := f.Chmod(resultFileMode); err != nil {
		return resultFileError(path, err)
	}
	if err := f.Sync(); err != nil {
		return resultFileError(path, err)
	}
	if err := f.Close(); err != nil {
		return resultFileError(path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return resultFileError(path, err)
	}
	return nil
}

// CheckWritableDir reports whether result files can be written into dir
// ("" means the current directory) by creating and removing a temporary
// file there: before a run, so that a directory that is missing, is a
// file or is read-only fails the run before anything is sent rather than
// losing its result after. It creates nothing else.
func CheckWritableDir(dir string) error {
	dir = cmpOrDot(dir)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("servingbench: directory %q does not exist", dir)
	case err != nil:
		return fmt.Errorf("servingbench: directory %q: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("servingbench: %q is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".servingbench-check-*.tmp")
	if err != nil {
		if cl := ClientLimitOf(err); cl != nil {
			err = cl
		}
		return fmt.Errorf("servingbench: directory %q is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

func resultFileError(path string, err error) error {
	if cl := ClientLimitOf(err); cl != nil {
		err = cl
	}
	return fmt.Errorf("servingbench: writing the result to %s: %w", path, err)
}

func cmpOrDot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}
