/**
 * The stand-in "model"'s answer to the chr-draft task: claims read off the fenced excerpts it was
 * sent, each quoting a line of its chunk exactly (so grounding has something real to verify), and
 * the misbehaviours tests ask for: `invent_value` adds a claim citing a chunk it was never given
 * and one whose quote is not in its chunk; `html_script` puts markup in claim text (only there:
 * ids and quotes stay checkable).
 */
const CHUNK = /<chunk id="([^"]+)" page="(\d+)">\n([\s\S]*?)\n<\/chunk>/g;

interface Claim {
  text: string;
  citations: { chunkId: string; quote: string }[];
}

/** A line worth quoting: long enough to mean something, not a rule of dashes. */
const quotable = (line: string) =>
  line.trim().length >= 12 && /[a-z]/i.test(line) && !/^[-=_\s]+$/.test(line);

export function draftAnswer(user: string, mode: string): Record<string, Claim[]> {
  const chunks = [...user.matchAll(CHUNK)].map((m) => ({ id: m[1]!, text: m[3]! }));
  const summary: Claim[] = [];
  for (const chunk of chunks.slice(0, 8)) {
    const line = chunk.text.split("\n").find(quotable);
    if (!line) continue;
    const quote = line.trim();
    summary.push({ text: `The records state: ${quote}.`, citations: [{ chunkId: chunk.id, quote }] });
  }
  const data_gaps: Claim[] = [{ text: "No imaging results were found in the excerpts.", citations: [] }];
  const follow_up_questions: Claim[] = [{ text: "Are there results more recent than these?", citations: [] }];
  if (mode === "invent_value") {
    summary.push({
      text: "The patient takes apixaban 5 mg twice daily.",
      citations: [{ chunkId: "00000000-0000-4000-8000-00000000dead", quote: "apixaban 5 mg twice daily" }],
    });
    if (chunks[0]) {
      summary.push({
        text: "Troponin was markedly elevated.",
        citations: [{ chunkId: chunks[0].id, quote: "Troponin I 987.6 ng/L" }],
      });
    }
  }
  const answer = { summary, key_findings: [], interpretation: [], data_gaps, follow_up_questions };
  if (mode === "html_script") {
    for (const claim of answer.summary) {
      claim.text = `${claim.text} <script>alert("x")</script>[click](javascript:alert(1))`;
    }
  }
  return answer;
}
