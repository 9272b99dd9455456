// Package ndjson reads newline-delimited JSON streams (application/x-ndjson,
// as Ollama's native API streams them: one JSON object a line) line by
// line, with no allocation per line on the hot path.
//
// Reader cuts a stream as Go's bufio.Scanner with bufio.ScanLines does,
// which is how Ollama's own client (api/client.go) reads these streams: a
// line ends with "\n", and one "\r" before it is dropped (CRLF is
// tolerated; a "\r" anywhere else stays in the line, where JSON reads it
// as white space). Unlike ScanLines, empty lines are skipped, not
// returned. A final line without "\n" is returned at the end of the body
// (io.EOF), as ScanLines returns it, so a stream cut inside a line hands
// its partial line to the decoder, which reports it malformed; after any
// other read error the partial line is discarded and the error returned
// (bufio.Scanner returns the partial line then too), so that a broken
// connection is reported as such and not as a malformed line. Lines may be
// longer than 64 KiB, up to a configurable cap (DefaultMaxLineBytes); a
// longer line is a *LineTooLongError. Nothing else is interpreted: no BOM
// is dropped and no comment or ping syntax exists.
//
// A Reader is not safe for concurrent use; use one per stream.
package ndjson
