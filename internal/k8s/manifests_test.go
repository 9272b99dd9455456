package k8s

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The invariants below follow the Job controller and the kubelet of
// github.com/kubernetes/kubernetes (master, 2026):
//   - pkg/controller/job/indexed_job_utils.go, addCompletionIndexEnvVariable:
//     an Indexed Job's pod gets JOB_COMPLETION_INDEX from the annotation
//     batch.kubernetes.io/job-completion-index, appended after the
//     container's own variables, and none when the container declares one;
//   - third_party/forked/golang/expansion/expand.go: $(VAR) in command, args
//     and env values expands a variable that is defined ($$ is a literal $,
//     an undefined reference stays as written), and an env value sees only
//     the variables declared before it.
// The API types are k8s.io/api v0.37.2. The YAML becomes JSON through
// sigs.k8s.io/yaml v1.6.0's YAMLToJSONStrict (a duplicate key is an error)
// and is decoded by sigs.k8s.io/json's UnmarshalStrict, the decoder of the
// API server's strict field validation (k8s.io/apimachinery
// pkg/runtime/serializer/json): field names match case-sensitively, and an
// unknown or duplicate field is an error, where encoding/json would match
// "completionmode" to completionMode.

// strictDecode decodes the YAML data into out as the API server's strict
// field validation would, returning the first error.
func strictDecode(data []byte, out any) error {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, out)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// decodeStrict reads the YAML file name into out, failing on a field the
// Kubernetes API type does not have, and checks its apiVersion and kind.
func decodeStrict(t *testing.T, name, apiVersion, kind string, out any) {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	require.NoError(t, strictDecode(data, out), "%s: strict decoding into %T", name, out)
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	require.NoError(t, yaml.Unmarshal(data, &meta), name)
	require.Equal(t, apiVersion, meta.APIVersion, "%s: apiVersion", name)
	require.Equal(t, kind, meta.Kind, "%s: kind", name)
}

// expand replaces each $(NAME) in s whose NAME env defines by its value, as
// the kubelet does; $$ is a literal $, and an undefined $(NAME) is kept.
func expand(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				name := s[i+2 : i+2+end]
				if v, ok := env[name]; ok {
					b.WriteString(v)
				} else {
					b.WriteString(s[i : i+3+end])
				}
				i += 2 + end
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// podEnv is the environment the container of an Indexed Job's pod with
// completion index k sees: its own variables in order, each value expanded
// over the ones before it, then JOB_COMPLETION_INDEX as the controller adds
// it when the container has none. A declared JOB_COMPLETION_INDEX must read
// the completion-index annotation, which the test stands in for with k.
func podEnv(t *testing.T, c corev1.Container, k int) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, v := range c.Env {
		switch {
		case v.Name == "JOB_COMPLETION_INDEX":
			require.NotNil(t, v.ValueFrom, "JOB_COMPLETION_INDEX has no valueFrom")
			require.NotNil(t, v.ValueFrom.FieldRef, "JOB_COMPLETION_INDEX has no fieldRef")
			require.Equal(t, fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation),
				v.ValueFrom.FieldRef.FieldPath, "JOB_COMPLETION_INDEX's field")
			env[v.Name] = strconv.Itoa(k)
		case v.ValueFrom != nil:
			t.Fatalf("env %s: valueFrom the test cannot resolve", v.Name)
		default:
			env[v.Name] = expand(v.Value, env)
		}
	}
	if _, ok := env["JOB_COMPLETION_INDEX"]; !ok {
		env["JOB_COMPLETION_INDEX"] = strconv.Itoa(k)
	}
	return env
}

// flagValue returns the value of --name=VALUE in args, and whether it was there.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// onlyContainer returns the pod template's single container.
func onlyContainer(t *testing.T, job *batchv1.Job) corev1.Container {
	t.Helper()
	require.Len(t, job.Spec.Template.Spec.Containers, 1, "job %s: containers", job.Name)
	require.Empty(t, job.Spec.Template.Spec.InitContainers, "job %s: init containers", job.Name)
	return job.Spec.Template.Spec.Containers[0]
}

// resultsMount returns where container c mounts the volume of the pod
// template that is the PersistentVolumeClaim claim.
func resultsMount(t *testing.T, job *batchv1.Job, c corev1.Container, claim string) string {
	t.Helper()
	var volume string
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
			volume = v.Name
		}
	}
	require.NotEmpty(t, volume, "job %s: no volume of the claim %s", job.Name, claim)
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			assert.False(t, m.ReadOnly, "job %s: %s mounted read-only", job.Name, volume)
			assert.Empty(t, m.SubPath, "job %s: %s mounted with a subPath", job.Name, volume)
			return m.MountPath
		}
	}
	t.Fatalf("job %s: container %s does not mount the volume %s", job.Name, c.Name, volume)
	return ""
}

// checkIndexed checks an Indexed Job that runs all its n pods at once and
// reruns none: a rerun shard would start after the others.
func checkIndexed(t *testing.T, job *batchv1.Job, n int) {
	t.Helper()
	require.NotNil(t, job.Spec.CompletionMode, "job %s: completionMode", job.Name)
	assert.Equal(t, batchv1.IndexedCompletion, *job.Spec.CompletionMode, "job %s: completionMode", job.Name)
	require.NotNil(t, job.Spec.Completions, "job %s: completions", job.Name)
	require.NotNil(t, job.Spec.Parallelism, "job %s: parallelism", job.Name)
	assert.EqualValues(t, n, *job.Spec.Completions, "job %s: completions against the shard count", job.Name)
	assert.EqualValues(t, n, *job.Spec.Parallelism, "job %s: parallelism against the shard count", job.Name)
	require.NotNil(t, job.Spec.BackoffLimit, "job %s: backoffLimit", job.Name)
	assert.EqualValues(t, 0, *job.Spec.BackoffLimit, "job %s: backoffLimit", job.Name)
	assert.Equal(t, corev1.RestartPolicyNever, job.Spec.Template.Spec.RestartPolicy, "job %s: restartPolicy", job.Name)
}

// shardCount parses "$(JOB_COMPLETION_INDEX)/N" and returns N.
func shardCount(t *testing.T, what, v string) int {
	t.Helper()
	rest, ok := strings.CutPrefix(v, "$(JOB_COMPLETION_INDEX)/")
	require.True(t, ok, "%s = %q: not $(JOB_COMPLETION_INDEX)/N", what, v)
	n, err := strconv.Atoi(rest)
	require.NoError(t, err, "%s = %q", what, v)
	require.Greater(t, n, 1, "%s = %q", what, v)
	return n
}

func readPVC(t *testing.T) corev1.PersistentVolumeClaim {
	var pvc corev1.PersistentVolumeClaim
	decodeStrict(t, "pvc.yaml", "v1", "PersistentVolumeClaim", &pvc)
	assert.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}, pvc.Spec.AccessModes,
		"pvc.yaml: the shards on several nodes write to it at once")
	return pvc
}

// TestShardsAndMergeJobs: the CLI's Indexed Job runs shard K/N in pod K
// with completions == parallelism == N, every pod the same schedule from
// the same --start-at, each writing /results/shard-K.json on the shared
// ReadWriteMany volume, and the merge Job reads exactly those N files from
// the same volume with the same image.
func TestShardsAndMergeJobs(t *testing.T) {
	pvc := readPVC(t)
	var shards, merge batchv1.Job
	decodeStrict(t, "shards-job.yaml", "batch/v1", "Job", &shards)
	decodeStrict(t, "merge-job.yaml", "batch/v1", "Job", &merge)

	c := onlyContainer(t, &shards)
	shard, ok := flagValue(c.Args, "shard")
	require.True(t, ok, "shards-job.yaml: no --shard=")
	n := shardCount(t, "--shard", shard)
	checkIndexed(t, &shards, n)
	assert.Contains(t, c.Args, "--save-result")
	assert.Contains(t, c.Args, "--save-detailed")
	dir, ok := flagValue(c.Args, "result-dir")
	require.True(t, ok, "shards-job.yaml: no --result-dir=")
	assert.Equal(t, dir, resultsMount(t, &shards, c, pvc.Name), "--result-dir against the volume's mountPath")

	var files []string
	var first []string
	for k := range n {
		env := podEnv(t, c, k)
		args := make([]string, len(c.Args))
		for i, a := range c.Args {
			args[i] = expand(a, env)
			assert.NotContains(t, args[i], "$(", "pod %d: %q left unexpanded", k, a)
		}
		s, _ := flagValue(args, "shard")
		assert.Equal(t, fmt.Sprintf("%d/%d", k, n), s, "pod %d: --shard", k)
		at, ok := flagValue(args, "start-at")
		require.True(t, ok, "pod %d: no --start-at=", k)
		_, err := time.Parse(time.RFC3339, at)
		assert.NoError(t, err, "pod %d: --start-at", k)
		name, ok := flagValue(args, "result-filename")
		require.True(t, ok, "pod %d: no --result-filename=", k)
		files = append(files, path.Join(dir, name))
		// Every pod computes the same schedule: the arguments differ only
		// in the shard and the result file.
		same := slices.DeleteFunc(slices.Clone(args), func(a string) bool {
			return strings.HasPrefix(a, "--shard=") || strings.HasPrefix(a, "--result-filename=")
		})
		if k == 0 {
			first = same
		} else {
			assert.Equal(t, first, same, "pod %d's arguments other than --shard and --result-filename", k)
		}
	}
	assert.Len(t, slices.Compact(slices.Sorted(slices.Values(files))), n, "result files %v: one a shard", files)

	m := onlyContainer(t, &merge)
	assert.Nil(t, merge.Spec.CompletionMode, "merge-job.yaml: completionMode")
	require.NotNil(t, merge.Spec.Completions)
	assert.EqualValues(t, 1, *merge.Spec.Completions, "merge-job.yaml: completions")
	assert.Equal(t, c.Image, m.Image, "merge-job.yaml's image against the shards'")
	assert.Equal(t, c.Command, m.Command, "merge-job.yaml's command against the shards'")
	mdir := resultsMount(t, &merge, m, pvc.Name)
	require.GreaterOrEqual(t, len(m.Args), 3, "merge-job.yaml: args %q", m.Args)
	assert.Equal(t, []string{"merge", "-o"}, m.Args[:2], "merge-job.yaml: args")
	assert.Equal(t, mdir, path.Dir(m.Args[2]), "merge-job.yaml: -o %s outside the volume", m.Args[2])
	var inputs []string
	for _, a := range m.Args[3:] {
		inputs = append(inputs, path.Join(mdir, strings.TrimPrefix(a, mdir+"/")))
		assert.True(t, strings.HasPrefix(a, mdir+"/"), "merge-job.yaml: %s outside the volume at %s", a, mdir)
	}
	// The shards' paths are the shards' mount; the merge pod's its own.
	var want []string
	for _, f := range files {
		want = append(want, path.Join(mdir, strings.TrimPrefix(f, dir+"/")))
	}
	assert.Equal(t, want, inputs, "merge-job.yaml: the files, one a shard in shard order")
}

// TestBenchJob: the go test -bench Indexed Job gives pod K
// SERVINGBENCH_SHARD=K/N with completions == parallelism == N, and each pod
// writes its own benchmark output file on the shared volume.
func TestBenchJob(t *testing.T) {
	pvc := readPVC(t)
	var bench batchv1.Job
	decodeStrict(t, "bench-job.yaml", "batch/v1", "Job", &bench)
	c := onlyContainer(t, &bench)
	var shard string
	for _, v := range c.Env {
		if v.Name == "SERVINGBENCH_SHARD" {
			shard = v.Value
		}
	}
	n := shardCount(t, "SERVINGBENCH_SHARD", shard)
	checkIndexed(t, &bench, n)
	dir := resultsMount(t, &bench, c, pvc.Name)
	require.Equal(t, []string{"/bin/sh", "-c"}, c.Command, "bench-job.yaml: command")
	require.Len(t, c.Args, 1, "bench-job.yaml: args")
	var outs []string
	for k := range n {
		env := podEnv(t, c, k)
		assert.Equal(t, fmt.Sprintf("%d/%d", k, n), env["SERVINGBENCH_SHARD"], "pod %d: SERVINGBENCH_SHARD", k)
		script := expand(c.Args[0], env)
		assert.Contains(t, script, " -test.bench=", "pod %d: the script runs no benchmark: %s", k, script)
		_, out, ok := strings.Cut(script, " > ")
		require.True(t, ok, "pod %d: the script's output goes to no file: %s", k, script)
		assert.Equal(t, dir, path.Dir(out), "pod %d: output %s outside the volume", k, out)
		outs = append(outs, out)
	}
	assert.Len(t, slices.Compact(slices.Sorted(slices.Values(outs))), n, "output files %v: one a shard", outs)
}

// TestChecksCatch: the checks above fail on the mistakes they are there
// for: a field no Kubernetes type has, a field name in the wrong case, a
// duplicate key, and SERVINGBENCH_SHARD referring to the controller's
// JOB_COMPLETION_INDEX, which is appended after it and so stays the
// literal text.
func TestChecksCatch(t *testing.T) {
	data, err := os.ReadFile("shards-job.yaml")
	require.NoError(t, err)
	var job batchv1.Job
	require.NoError(t, strictDecode(data, &job))
	for _, tc := range []struct{ old, new, err string }{
		{"  backoffLimit: 0\n", "  backoffLimit: 0\n  completionIndex: 0\n", `unknown field "spec.completionIndex"`},
		{"  completionMode: Indexed\n", "  completionmode: Indexed\n", `unknown field "spec.completionmode"`},
		{"  backoffLimit: 0\n", "  backoffLimit: 0\n  backoffLimit: 1\n", `key "backoffLimit" already set in map`},
	} {
		bad := strings.Replace(string(data), tc.old, tc.new, 1)
		require.NotEqual(t, string(data), bad, "no %q in shards-job.yaml", tc.old)
		var job batchv1.Job
		err := strictDecode([]byte(bad), &job)
		if assert.Error(t, err, "%q decoded", tc.new) {
			assert.Contains(t, err.Error(), tc.err)
		}
	}

	var bench batchv1.Job
	decodeStrict(t, "bench-job.yaml", "batch/v1", "Job", &bench)
	c := onlyContainer(t, &bench)
	c.Env = slices.DeleteFunc(c.Env, func(v corev1.EnvVar) bool { return v.Name == "JOB_COMPLETION_INDEX" })
	assert.Equal(t, "$(JOB_COMPLETION_INDEX)/4", podEnv(t, c, 2)["SERVINGBENCH_SHARD"])
}
