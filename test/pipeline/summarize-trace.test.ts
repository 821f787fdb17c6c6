import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeTrace } from '../../src/pipeline/store/summarize-trace.ts';
import { genAiOnlyTrace, HEX, QUESTION } from '../relay/genai-only-trace.ts';

describe('trace summaries (traces list)', () => {
  it('a relayed GenAI-convention-only trace shows the previews and the token total MLflow is sent', () => {
    const summary = summarizeTrace({ traceId: `tr-${HEX}`, savedAt: '', spans: genAiOnlyTrace() });
    assert.equal(summary.rootName, 'invoke_agent geo-agent');
    assert.equal(summary.spanCount, 3);
    assert.equal(summary.requestPreview, QUESTION);
    assert.equal(summary.responsePreview, 'Paris.');
    assert.deepEqual(summary.tokens, { input: 12, output: 7, total: 19 });
  });
});
