import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSpanTree } from '../../src/pipeline/store/span-tree.ts';
import { summarizeTrace } from '../../src/pipeline/store/summarize-trace.ts';
import { toMlflowSpan } from '../../src/relay/translate-span.ts';
import { genAiOnlyTrace, HEX, QUESTION } from '../relay/genai-only-trace.ts';

/** The spans as the relay stores them: translated once, on the way in. */
const relayedSpans = () => genAiOnlyTrace().map(toMlflowSpan);

describe('trace summaries (traces list)', () => {
  it('a relayed GenAI-convention-only trace shows the previews and the token total MLflow is sent', () => {
    const summary = summarizeTrace({ traceId: `tr-${HEX}`, savedAt: '', spans: relayedSpans() });
    assert.equal(summary.rootName, 'invoke_agent geo-agent');
    assert.equal(summary.spanCount, 3);
    assert.equal(summary.requestPreview, QUESTION);
    assert.equal(summary.responsePreview, 'Paris.');
    assert.deepEqual(summary.tokens, { input: 12, output: 7, total: 19 });
  });
});

describe('the span tree (traces show)', () => {
  it('a relayed GenAI-convention-only trace shows MLflow span types, and token usage on the chat span only', () => {
    const [root] = buildSpanTree({ traceId: `tr-${HEX}`, savedAt: '', spans: relayedSpans() });
    assert.ok(root);
    assert.equal(root.spanType, 'AGENT');
    assert.equal(root.tokens, undefined);
    assert.deepEqual(
      root.children.map((child) => [child.span.name, child.spanType, child.tokens?.total]),
      [
        ['chat gpt-4o-mini', 'CHAT_MODEL', 19],
        ['execute_tool lookup_capital', 'TOOL', undefined],
      ],
    );
  });
});
