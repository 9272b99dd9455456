package servingtest

import (
	"hash/fnv"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// WordTokenizer is the built-in tokenizer: a token is a whitespace-separated
// word, so Encode(s) has len(strings.Fields(s)) ids. Words in its list map to
// their index; other words hash to an index (Decode does not give them back).
// Decode writes each id as " word". The simulated server generates its text
// from the same list, so re-encoding generated text gives the exact output
// token count. The zero value is ready to use and safe for concurrent use.
type WordTokenizer struct{}

var _ servingbench.Tokenizer = WordTokenizer{}

// Encode returns one id per whitespace-separated word of text.
func (WordTokenizer) Encode(text string) []int {
	fields := strings.Fields(text)
	ids := make([]int, len(fields))
	for i, f := range fields {
		ids[i] = wordID(f)
	}
	return ids
}

// Decode returns " word" for each id, concatenated. Ids outside
// [0, VocabSize) are reduced modulo VocabSize.
func (WordTokenizer) Decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		id %= len(words)
		if id < 0 {
			id += len(words)
		}
		b.WriteByte(' ')
		b.WriteString(words[id])
	}
	return b.String()
}

// VocabSize is the size of the word list.
func (WordTokenizer) VocabSize() int { return len(words) }

// CountWords is the built-in tokenizer's count: the number of
// whitespace-separated words.
func CountWords(text string) int { return len(strings.Fields(text)) }

var wordIndex = func() map[string]int {
	m := make(map[string]int, len(words))
	for i, w := range words {
		m[w] = i
	}
	return m
}()

func wordID(w string) int {
	if id, ok := wordIndex[w]; ok {
		return id
	}
	h := fnv.New32a()
	h.Write([]byte(w))
	return int(h.Sum32() % uint32(len(words)))
}

// words is the fixed vocabulary: lower-case ASCII, no JSON escaping needed.
var words = [...]string{
	"the", "of", "and", "to", "in", "is", "was", "for", "on", "that",
	"with", "as", "by", "at", "from", "his", "her", "it", "an", "were",
	"are", "which", "this", "be", "or", "has", "had", "not", "but", "first",
	"one", "their", "its", "new", "after", "who", "they", "have", "two", "been",
	"also", "more", "all", "other", "time", "into", "there", "when", "would", "some",
	"can", "over", "only", "most", "such", "where", "many", "then", "these", "through",
	"between", "during", "while", "year", "world", "state", "city", "school", "part", "system",
	"model", "server", "token", "request", "batch", "cache", "memory", "stream", "engine", "queue",
	"river", "mountain", "forest", "ocean", "island", "valley", "desert", "garden", "bridge", "tower",
	"music", "paper", "story", "light", "water", "stone", "glass", "metal", "cloud", "storm",
	"quick", "slow", "bright", "dark", "warm", "cold", "early", "late", "small", "large",
	"green", "blue", "red", "white", "black", "yellow", "silver", "golden", "quiet", "loud",
	"run", "walk", "read", "write", "build", "move", "turn", "hold", "bring", "carry",
	"open", "close", "start", "stop", "grow", "fall", "rise", "send", "take", "give",
	"north", "south", "east", "west", "center", "edge", "corner", "line", "point", "field",
	"house", "road", "door", "window", "table", "chair", "book", "letter", "number", "word",
	"day", "night", "morning", "evening", "week", "month", "season", "moment", "hour", "minute",
	"king", "queen", "people", "friend", "teacher", "doctor", "farmer", "writer", "singer", "pilot",
	"apple", "bread", "salt", "sugar", "honey", "rice", "tea", "milk", "fruit", "grain",
	"horse", "bird", "fish", "wolf", "bear", "fox", "deer", "eagle", "whale", "tiger",
	"fire", "earth", "wind", "ice", "snow", "rain", "sun", "moon", "star", "sky",
	"simple", "strong", "gentle", "clever", "honest", "proud", "brave", "calm", "eager", "fair",
	"again", "always", "never", "often", "soon", "today", "together", "almost", "perhaps", "already",
	"question", "answer", "reason", "result", "measure", "signal", "pattern", "method", "value", "order",
	"under", "above", "across", "around", "behind", "beyond", "inside", "outside", "toward", "within",
	"ring", "song", "dance", "game", "plan", "idea",
}
