//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package servingbench

// Without RLIMIT_NOFILE the limit is unknown and checks pass.

func currentFileLimit() (FileLimit, error) { return FileLimit{}, nil }

func raiseFileLimit() (FileLimit, error) { return FileLimit{}, nil }
