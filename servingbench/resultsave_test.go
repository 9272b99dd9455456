package servingbench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dirNames lists dir's entries, temporary files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteJSONFile(t *testing.T) {
	opt := JSONOptions{Percentiles: []float64{50, 99, 99.9}, Detailed: true}
	want := writeJSON(t, fullReport(), opt)

	t.Run("new file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "r.json")
		require.NoError(t, WriteJSONFile(path, fullReport(), opt))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "the file holds what WriteJSON writes")
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
		assert.Equal(t, []string{"r.json"}, dirNames(t, dir), "no temporary file is left")
	})
	t.Run("replaces an older file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "r.json")
		require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
		require.NoError(t, WriteJSONFile(path, fullReport(), opt))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
	})
	t.Run("failed write keeps the older file and leaves no temporary", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "r.json")
		require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
		err := WriteJSONFile(path, fullReport(), JSONOptions{Percentiles: []float64{101}})
		require.Error(t, err)
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "old", string(got))
		assert.Equal(t, []string{"r.json"}, dirNames(t, dir))
	})
	t.Run("missing directory", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "nope", "r.json")
		err := WriteJSONFile(path, fullReport(), opt)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "servingbench: writing the result to "+path)
		assert.ErrorIs(t, err, os.ErrNotExist)
		assert.Empty(t, dirNames(t, dir))
	})
	t.Run("a directory name", func(t *testing.T) {
		dir := t.TempDir() + string(filepath.Separator)
		err := WriteJSONFile(dir, fullReport(), opt)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "names a directory")
	})
}

func TestCheckWritableDir(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	readOnly := filepath.Join(root, "ro")
	require.NoError(t, os.Mkdir(readOnly, 0o555))
	tests := []struct {
		name, dir, err string
		skipRoot       bool
	}{
		{name: "writable", dir: root},
		{name: "missing", dir: filepath.Join(root, "missing"), err: `servingbench: directory "` + filepath.Join(root, "missing") + `" does not exist`},
		{name: "a file", dir: file, err: `servingbench: "` + file + `" is not a directory`},
		{name: "read-only", dir: readOnly, err: `servingbench: directory "` + readOnly + `" is not writable: `, skipRoot: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skipRoot && os.Geteuid() == 0 {
				t.Skip("root writes into read-only directories")
			}
			before := dirNames(t, root)
			err := CheckWritableDir(tt.dir)
			if tt.err == "" {
				require.NoError(t, err, "CheckWritableDir(%q)", tt.dir)
			} else {
				require.Error(t, err, "CheckWritableDir(%q)", tt.dir)
				assert.Contains(t, err.Error(), tt.err)
			}
			assert.Equal(t, before, dirNames(t, root), "CheckWritableDir leaves nothing behind")
		})
	}
}
