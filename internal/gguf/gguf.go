// Package gguf writes GGUF files (version 3), the model format of
// llama.cpp: a header, typed key-value metadata, tensor descriptions, and
// the tensor data, each tensor aligned to Alignment bytes. It writes the
// subset servingbench's test model needs: scalar, string and array
// metadata, and F32 and F16 tensors. All integers are little-endian.
//
// A Writer is not safe for concurrent use.
package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Magic starts every GGUF file ("GGUF" in file order).
const Magic = 0x46554747

// Version is the GGUF version written.
const Version = 3

// Alignment of the tensor data section and of each tensor in it (the
// default, as general.alignment is not written).
const Alignment = 32

// Metadata value types.
const (
	typeUint32  = 4
	typeInt32   = 5
	typeFloat32 = 6
	typeBool    = 7
	typeString  = 8
	typeArray   = 9
)

// Tensor types (ggml_type).
const (
	TypeF32 = 0
	TypeF16 = 1
)

type kv struct {
	key   string
	write func(w *bufio.Writer)
}

type tensor struct {
	name string
	dims []uint64 // innermost (contiguous) first, as ggml's ne
	typ  uint32
	data []byte
}

// Writer collects metadata and tensors in order and writes the file with
// WriteTo.
type Writer struct {
	kvs     []kv
	tensors []tensor
}

// String adds a string value.
func (g *Writer) String(key, v string) {
	g.add(key, func(w *bufio.Writer) { putU32(w, typeString); putString(w, v) })
}

// Uint32 adds a uint32 value.
func (g *Writer) Uint32(key string, v uint32) {
	g.add(key, func(w *bufio.Writer) { putU32(w, typeUint32); putU32(w, v) })
}

// Float32 adds a float32 value.
func (g *Writer) Float32(key string, v float32) {
	g.add(key, func(w *bufio.Writer) { putU32(w, typeFloat32); putU32(w, math.Float32bits(v)) })
}

// Bool adds a bool value.
func (g *Writer) Bool(key string, v bool) {
	b := byte(0)
	if v {
		b = 1
	}
	g.add(key, func(w *bufio.Writer) { putU32(w, typeBool); w.WriteByte(b) })
}

// Strings adds an array of strings.
func (g *Writer) Strings(key string, v []string) {
	g.add(key, func(w *bufio.Writer) {
		putU32(w, typeArray)
		putU32(w, typeString)
		putU64(w, uint64(len(v)))
		for _, s := range v {
			putString(w, s)
		}
	})
}

// Int32s adds an array of int32.
func (g *Writer) Int32s(key string, v []int32) {
	g.add(key, func(w *bufio.Writer) {
		putU32(w, typeArray)
		putU32(w, typeInt32)
		putU64(w, uint64(len(v)))
		for _, x := range v {
			putU32(w, uint32(x))
		}
	})
}

func (g *Writer) add(key string, write func(*bufio.Writer)) {
	g.kvs = append(g.kvs, kv{key, write})
}

// Tensor adds a tensor of rows x cols values in row-major order (a numpy
// array of shape (rows, cols); a vector when rows is 0), stored as typ
// (TypeF32 or TypeF16, rounded to nearest even).
func (g *Writer) Tensor(name string, rows, cols int, typ uint32, data []float32) error {
	n := cols
	dims := []uint64{uint64(cols)}
	if rows > 0 {
		n *= rows
		dims = append(dims, uint64(rows))
	}
	if len(data) != n {
		return fmt.Errorf("gguf: tensor %s: %d values for %d x %d", name, len(data), rows, cols)
	}
	var b []byte
	switch typ {
	case TypeF32:
		b = make([]byte, 4*n)
		for i, f := range data {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
		}
	case TypeF16:
		b = make([]byte, 2*n)
		for i, f := range data {
			binary.LittleEndian.PutUint16(b[2*i:], F16(f))
		}
	default:
		return fmt.Errorf("gguf: tensor %s: unsupported type %d", name, typ)
	}
	g.tensors = append(g.tensors, tensor{name: name, dims: dims, typ: typ, data: b})
	return nil
}

// WriteTo writes the file.
func (g *Writer) WriteTo(out io.Writer) (int64, error) {
	cw := &countingWriter{w: out}
	w := bufio.NewWriterSize(cw, 1<<20)
	putU32(w, Magic)
	putU32(w, Version)
	putU64(w, uint64(len(g.tensors)))
	putU64(w, uint64(len(g.kvs)))
	for _, kv := range g.kvs {
		putString(w, kv.key)
		kv.write(w)
	}
	var off uint64
	for _, t := range g.tensors {
		putString(w, t.name)
		putU32(w, uint32(len(t.dims)))
		for _, d := range t.dims {
			putU64(w, d)
		}
		putU32(w, t.typ)
		putU64(w, off)
		off = align(off + uint64(len(t.data)))
	}
	if err := w.Flush(); err != nil {
		return cw.n, err
	}
	pad(w, cw.n)
	for _, t := range g.tensors {
		w.Write(t.data)
		if err := w.Flush(); err != nil {
			return cw.n, err
		}
		pad(w, cw.n)
	}
	err := w.Flush()
	return cw.n, err
}

func align(n uint64) uint64 { return (n + Alignment - 1) / Alignment * Alignment }

// pad writes zeros up to the next multiple of Alignment after n bytes.
func pad(w *bufio.Writer, n int64) {
	for range align(uint64(n)) - uint64(n) {
		w.WriteByte(0)
	}
}

func putU32(w *bufio.Writer, v uint32) { w.Write(binary.LittleEndian.AppendUint32(nil, v)) }
func putU64(w *bufio.Writer, v uint64) { w.Write(binary.LittleEndian.AppendUint64(nil, v)) }
func putString(w *bufio.Writer, s string) {
	putU64(w, uint64(len(s)))
	w.WriteString(s)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// F16 converts f to IEEE 754 half precision, rounding to nearest even;
// values too large become infinity, too small zero (or subnormals).
func F16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	biased := int(b>>23) & 0xff
	mant := b & 0x7fffff
	exp := biased - 127 + 15
	switch {
	case biased == 0xff: // infinity or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp >= 0x1f:
		return sign | 0x7c00
	case exp <= 0: // subnormal half (or zero)
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - exp)
		m := mant >> shift
		rem, half := mant&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > half || (rem == half && m&1 == 1) {
			m++ // may carry into the smallest normal: still the right bits
		}
		return sign | uint16(m)
	}
	h := sign | uint16(exp)<<10 | uint16(mant>>13)
	if rem := mant & 0x1fff; rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to infinity: still right
	}
	return h
}
