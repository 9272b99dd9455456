package servingbench

import "time"

// The result file's keys of a run that saw reasoning output: WriteJSON
// writes them, ReadJSON reads them back. None is vLLM's: AIPerf and
// GuideLLM name the time to the first answer token time to first output
// token, so the summaries are mean_ttfo_ms and the like (metric.go); the
// counts say reasoning and answer, since vLLM's output tokens
// (total_output_tokens) hold both.

// writeReasoning writes the reasoning counts of r.
func writeReasoning(o *pyObject, r *Report) {
	o.int("reasoning_requests", r.ReasoningRequests)
	o.int("reasoning_only_requests", r.ReasoningOnly)
	o.int("total_reasoning_tokens", r.TotalReasoningTokens)
	o.int("total_answer_tokens", r.TotalAnswerTokens)
	o.float("mean_reasoning_tokens", r.MeanReasoningTokens())
	o.float("mean_answer_tokens", r.MeanAnswerTokens())
	o.raw("reasoning_token_sources", sourcesObject(r.ReasoningSources))
}

// writeReasoningDetail writes the per-request reasoning arrays, in the
// order of results: ttfos, reasoning_lens, answer_lens.
func writeReasoningDetail(o *pyObject, results []*Result) {
	var ttfo, reason, answer pyArray
	for _, r := range results {
		if r == nil {
			continue
		}
		if !r.OK() {
			ttfo.raw([]byte("null"))
			reason.int(0)
			answer.int(0)
			continue
		}
		if r.FirstAnswer < len(r.Events) {
			ttfo.float(r.TTFO().Seconds())
		} else {
			ttfo.raw([]byte("null"))
		}
		reason.int(r.ReasoningTokens)
		answer.int(r.answerTokens())
	}
	o.raw("ttfos", ttfo.bytes())
	o.raw("reasoning_lens", reason.bytes())
	o.raw("answer_lens", answer.bytes())
}

// reasoning reads the reasoning counts into r (the means are derived from
// the totals and are not read).
func (d *fileDecoder) reasoning(r *Report) {
	r.ReasoningRequests = d.int("reasoning_requests")
	r.ReasoningOnly = d.int("reasoning_only_requests")
	r.TotalReasoningTokens = d.int("total_reasoning_tokens")
	r.TotalAnswerTokens = d.int("total_answer_tokens")
	r.ReasoningSources = d.sources("reasoning_token_sources")
}

// reasoningArrays are the per-request reasoning arrays of a file.
type reasoningArrays struct {
	ttfos          []*float64
	reason, answer []int
}

// keys lists the arrays for the length check of results.
func (a *reasoningArrays) keys() []detailArray {
	return []detailArray{
		{"ttfos", &a.ttfos, func() int { return len(a.ttfos) }},
		{"reasoning_lens", &a.reason, func() int { return len(a.reason) }},
		{"answer_lens", &a.answer, func() int { return len(a.answer) }},
	}
}

// apply sets the reasoning of the successful request res, the i-th, whose
// Events are rebuilt: FirstAnswer is the event at its ttfo (the first at
// or after it, within a microsecond for the rounding of the seconds;
// len(Events) for null), the counts are the file's. The file has no
// per-request source: ReasoningSource is the run's one source, or
// SourceTokenizer when it names several.
func (a *reasoningArrays) apply(res *Result, i int, sources map[CountSource]int) {
	if a.reason == nil && a.answer == nil && a.ttfos == nil {
		return
	}
	if a.ttfos != nil {
		res.FirstAnswer = len(res.Events)
		if t := a.ttfos[i]; t != nil {
			at := seconds(*t) - time.Microsecond
			for j, ev := range res.Events {
				if ev >= at {
					res.FirstAnswer = j
					break
				}
			}
		}
	}
	if a.reason != nil {
		res.ReasoningTokens = a.reason[i]
	}
	if a.answer != nil {
		res.AnswerTokens = a.answer[i]
	}
	res.ReasoningSource = SourceTokenizer
	if len(sources) == 1 {
		for s := range sources {
			res.ReasoningSource = s
		}
	}
}

// detailArray is one per-request array of a result file.
type detailArray struct {
	key string
	v   any
	n   func() int
}
