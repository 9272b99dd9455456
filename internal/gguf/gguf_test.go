package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestF16(t *testing.T) {
	for _, tc := range []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{0.1, 0x2e66},                    // 0.0999755859375, nearest
		{65504, 0x7bff},                  // largest finite half
		{65520, 0x7c00},                  // rounds up to infinity
		{1e6, 0x7c00},                    // overflow
		{6.103515625e-05, 0x0400},        // smallest normal half
		{5.960464477539063e-08, 0x0001},  // smallest subnormal half, 2^-24
		{2.9802322387695312e-08, 0x0000}, // 2^-25: a tie, to even (zero)
		{4.470348358154297e-08, 0x0001},  // 1.5 * 2^-25 rounds up
		{1 + 1.0/2048, 0x3c00},           // a tie between 1 and 1+2^-10: to even
		{1 + 3.0/2048, 0x3c02},           // a tie: to even (up)
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{1e-30, 0x0000},
	} {
		assert.Equal(t, tc.want, F16(tc.in), "F16(%g) = %#04x, want %#04x", tc.in, F16(tc.in), tc.want)
	}
	assert.Equal(t, uint16(0x7e00), F16(float32(math.NaN()))&0x7e00, "F16(NaN) is a NaN")
}

// TestF16Monotonic checks rounding against the exact halfway points: every
// half value h converts to itself, and values just inside its rounding
// interval do too.
func TestF16Monotonic(t *testing.T) {
	for h := uint16(0); h < 0x7c00; h++ {
		f := half(h)
		require.Equal(t, h, F16(f), "F16(half(%#04x)=%g)", h, f)
		if h > 0 {
			mid := (float64(half(h-1)) + float64(f)) / 2
			below, above := math.Nextafter32(float32(mid), 0), math.Nextafter32(float32(mid), 1)
			if float64(below) < mid {
				require.Equal(t, h-1, F16(below), "F16(%g) just below the midpoint of %#04x and %#04x", below, h-1, h)
			}
			if float64(above) > mid {
				require.Equal(t, h, F16(above), "F16(%g) just above the midpoint of %#04x and %#04x", above, h-1, h)
			}
		}
	}
}

// half decodes an IEEE half.
func half(h uint16) float32 {
	exp, mant := int(h>>10)&0x1f, float64(h&0x3ff)
	v := math.Ldexp(mant, -24)
	if exp > 0 {
		v = math.Ldexp(1024+mant, exp-25)
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return float32(v)
}

// TestWriteTo reads back a written file field by field, as llama.cpp's
// gguf reader does.
func TestWriteTo(t *testing.T) {
	var g Writer
	g.String("general.architecture", "llama")
	g.Uint32("llama.block_count", 2)
	g.Float32("eps", 1e-5)
	g.Bool("add_bos", true)
	g.Strings("tokens", []string{"a", "bc"})
	g.Int32s("types", []int32{1, -3})
	require.NoError(t, g.Tensor("vec", 0, 3, TypeF32, []float32{1, 2, 3}))
	require.NoError(t, g.Tensor("mat", 2, 3, TypeF16, []float32{1, -2, 0.5, 0, 65504, 1}))
	assert.ErrorContains(t, g.Tensor("bad", 2, 2, TypeF16, []float32{1}), "1 values for 2 x 2")
	var buf bytes.Buffer
	n, err := g.WriteTo(&buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), n)

	r := &reader{b: buf.Bytes()}
	assert.Equal(t, uint32(Magic), r.u32())
	assert.Equal(t, []byte("GGUF"), buf.Bytes()[:4])
	assert.Equal(t, uint32(3), r.u32())
	assert.Equal(t, uint64(2), r.u64(), "tensors")
	assert.Equal(t, uint64(6), r.u64(), "kvs")
	assert.Equal(t, "general.architecture", r.str())
	assert.Equal(t, uint32(typeString), r.u32())
	assert.Equal(t, "llama", r.str())
	assert.Equal(t, "llama.block_count", r.str())
	assert.Equal(t, []uint32{typeUint32, 2}, []uint32{r.u32(), r.u32()})
	assert.Equal(t, "eps", r.str())
	assert.Equal(t, uint32(typeFloat32), r.u32())
	assert.Equal(t, float32(1e-5), math.Float32frombits(r.u32()))
	assert.Equal(t, "add_bos", r.str())
	assert.Equal(t, uint32(typeBool), r.u32())
	assert.Equal(t, byte(1), r.byte())
	assert.Equal(t, "tokens", r.str())
	assert.Equal(t, []uint32{typeArray, typeString}, []uint32{r.u32(), r.u32()})
	assert.Equal(t, uint64(2), r.u64())
	assert.Equal(t, []string{"a", "bc"}, []string{r.str(), r.str()})
	assert.Equal(t, "types", r.str())
	assert.Equal(t, []uint32{typeArray, typeInt32}, []uint32{r.u32(), r.u32()})
	assert.Equal(t, uint64(2), r.u64())
	assert.Equal(t, []int32{1, -3}, []int32{int32(r.u32()), int32(r.u32())})

	assert.Equal(t, "vec", r.str())
	assert.Equal(t, uint32(1), r.u32(), "dims")
	assert.Equal(t, uint64(3), r.u64())
	assert.Equal(t, []uint64{TypeF32, 0}, []uint64{uint64(r.u32()), r.u64()}, "type, offset")
	assert.Equal(t, "mat", r.str())
	assert.Equal(t, uint32(2), r.u32(), "dims")
	assert.Equal(t, []uint64{3, 2}, []uint64{r.u64(), r.u64()}, "ne: columns first")
	assert.Equal(t, []uint64{TypeF16, 32}, []uint64{uint64(r.u32()), r.u64()}, "type, offset aligned to 32")

	data := align(uint64(r.off))
	assert.Equal(t, uint64(len(buf.Bytes())), data+32+align(12), "data section: 12 B of F32 padded, 12 B of F16 padded")
	vec := buf.Bytes()[data:]
	assert.Equal(t, float32(2), math.Float32frombits(binary.LittleEndian.Uint32(vec[4:])))
	mat := buf.Bytes()[data+32:]
	assert.Equal(t, []uint16{0x3c00, 0xc000, 0x3800, 0, 0x7bff, 0x3c00}, []uint16{
		binary.LittleEndian.Uint16(mat[0:]), binary.LittleEndian.Uint16(mat[2:]), binary.LittleEndian.Uint16(mat[4:]),
		binary.LittleEndian.Uint16(mat[6:]), binary.LittleEndian.Uint16(mat[8:]), binary.LittleEndian.Uint16(mat[10:]),
	})
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) byte() byte { r.off++; return r.b[r.off-1] }
func (r *reader) u32() uint32 {
	r.off += 4
	return binary.LittleEndian.Uint32(r.b[r.off-4:])
}
func (r *reader) u64() uint64 {
	r.off += 8
	return binary.LittleEndian.Uint64(r.b[r.off-8:])
}
func (r *reader) str() string {
	n := int(r.u64())
	r.off += n
	return string(r.b[r.off-n : r.off])
}
