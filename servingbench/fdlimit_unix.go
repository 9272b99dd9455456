//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package servingbench

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// darwinOpenMax is the most a process may set RLIMIT_NOFILE to on macOS
// when the hard limit is unlimited (OPEN_MAX; the Go runtime uses the same).
const darwinOpenMax = 10240

func currentFileLimit() (FileLimit, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return FileLimit{}, fmt.Errorf("servingbench: reading the open-file limit: %w", err)
	}
	return FileLimit{Soft: uint64(r.Cur), Hard: uint64(r.Max), Open: openFiles()}, nil
}

func raiseFileLimit() (FileLimit, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return FileLimit{}, fmt.Errorf("servingbench: reading the open-file limit: %w", err)
	}
	if r.Cur < r.Max {
		want := r
		want.Cur = r.Max
		err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
		if err != nil && runtime.GOOS == "darwin" && r.Cur < darwinOpenMax {
			want.Cur = darwinOpenMax
			err = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
		}
		if err != nil {
			l, _ := currentFileLimit()
			return l, fmt.Errorf("servingbench: raising the open-file limit from %d to %d: %w", uint64(r.Cur), uint64(r.Max), err)
		}
	}
	return currentFileLimit()
}

// openFiles counts this process's open descriptors, not counting the one
// that reads the directory; 0 when it cannot.
func openFiles() int {
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		f, err := os.Open(dir)
		if err != nil {
			continue
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err == nil && len(names) > 0 {
			return len(names) - 1
		}
	}
	return 0
}
