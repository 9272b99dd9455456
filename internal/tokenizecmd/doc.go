// Package tokenizecmd is the line conversion of `servingbench tokenize`: it
// turns text into token ids (or ids into text) with the tokenizer a
// benchmark would use, to check a count that disagrees with a server's
// /tokenize endpoint. The subcommand's flags and the tokenizer's resolution
// live in cmd/servingbench (tokenize.go); Run takes the loaded tokenizer.
//
// Encoding reads one JSON string per line and writes one JSON array of ids
// per line (no special tokens added; special tokens written in the text are
// encoded as such, as HuggingFace's encode(text, add_special_tokens=False)
// does). Decoding reads one JSON array of ids per line and writes one JSON
// string per line (special tokens kept; unknown ids skipped). Output line i
// answers input line i; a malformed line stops the conversion with an error
// naming its line number.
package tokenizecmd
