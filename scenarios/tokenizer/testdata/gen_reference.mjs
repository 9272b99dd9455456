// Makes reference_ids.json for a tokenizer directory with the npm package
// @huggingface/tokenizers (npm install @huggingface/tokenizers@0.2.0), from the
// texts of qwen3/reference_ids.json:
//   node gen_reference.mjs DIR OUT.json LABEL
// DIR holds tokenizer.json and tokenizer_config.json (gunzip llama3/tokenizer.json.gz first).
import { Tokenizer } from "@huggingface/tokenizers";
import fs from "fs";
const [,, dir, out, label] = process.argv;
const tj = JSON.parse(fs.readFileSync(dir + "/tokenizer.json", "utf8"));
const tc = JSON.parse(fs.readFileSync(dir + "/tokenizer_config.json", "utf8"));
const tok = new Tokenizer(tj, tc);
const ref = JSON.parse(fs.readFileSync(new URL("qwen3/reference_ids.json", import.meta.url), "utf8"));
const cases = [];
for (const c of ref.cases) {
  const ids = tok.encode(c.text, { add_special_tokens: false }).ids;
  const e = { kind: c.kind, text: c.text, ids };
  if (ids.length > 0) e.decoded = tok.decode(ids, { clean_up_tokenization_spaces: false });
  cases.push(e);
}
fs.writeFileSync(out, JSON.stringify({ tokenizer: label, reference: "@huggingface/tokenizers 0.2.0 encode(text, {add_special_tokens: false}); decoded: decode(ids, {clean_up_tokenization_spaces: false}); texts from the qwen3 reference", cases }));
console.log(cases.length);
