import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sseText } from '../../src/preload/sse-text.ts';

/** A stream of these events' data, each ended by its blank line, as a server writes it. */
const stream = (...data: unknown[]) => data.map((item) => `data: ${typeof item === 'string' ? item : JSON.stringify(item)}\n\n`).join('');

describe('the text a server-sent event stream carried', () => {
  it('joins an app’s own text pieces, however it names them, and skips [DONE]', () => {
    assert.equal(sseText(stream({ delta: 'Hello ' }, { delta: 'world' }, '[DONE]')), 'Hello world');
    assert.equal(sseText(stream({ token: 'a' }, { text: 'b' }, { content: 'c' }, '"d"')), 'abcd');
    assert.equal(sseText('data: Hello\n\ndata:  world\n\n'), 'Hello world', 'plain text, one space after the colon taken off');
  });

  it('reads the AI SDK’s UI message stream: its text deltas, not its reasoning or its other events', () => {
    const ui = stream(
      { type: 'start', messageId: 'm1' },
      { type: 'reasoning-delta', id: 'r', delta: 'thinking…' },
      { type: 'text-start', id: '0' },
      { type: 'text-delta', id: '0', delta: 'Paris is ' },
      { type: 'tool-input-delta', toolCallId: 'c', inputTextDelta: '{"city"' },
      { type: 'text-delta', id: '0', delta: 'sunny.' },
      { type: 'finish' },
      '[DONE]',
    );
    assert.equal(sseText(ui), 'Paris is sunny.');
  });

  it('reads OpenAI’s chunks, Anthropic’s events and the Responses API’s events passed through, without tool arguments or reasoning', () => {
    const openai = stream(
      { choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] },
      { choices: [{ index: 0, delta: { content: 'Hi' } }] },
      { choices: [{ index: 0, delta: { tool_calls: [{ function: { arguments: '{"a"' } }] } }] },
      { choices: [], usage: { total_tokens: 9 } },
      '[DONE]',
    );
    assert.equal(sseText(openai), 'Hi');
    const anthropic = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1"}}\n\n',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}\n\n',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Bonjour"}}\n\n',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}}\n\n',
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ].join('');
    assert.equal(sseText(anthropic), 'Bonjour');
    const responses = stream(
      { type: 'response.reasoning_summary_text.delta', delta: 'why' },
      { type: 'response.output_text.delta', delta: 'Done' },
      { type: 'response.function_call_arguments.delta', delta: '{"x":1}' },
      { type: 'response.completed', response: { id: 'resp_1' } },
    );
    assert.equal(sseText(responses), 'Done');
  });

  it('takes the whole events of a stream cut short, and events over several data lines or with CRLF', () => {
    assert.equal(sseText(`${stream({ delta: 'kept' })}data: {"delta":"cut`), 'kept');
    assert.equal(sseText('data: line one\r\ndata: line two\r\n\r\n'), 'line one\nline two');
  });

  it('is undefined for a body that is no event stream, or one whose events hold no text: the body is kept as it came', () => {
    assert.equal(sseText('just an answer'), undefined);
    assert.equal(sseText('{"answer":"json"}'), undefined);
    assert.equal(sseText(stream({ status: 'searching' }, { type: 'finish' }, '[DONE]')), undefined);
    assert.equal(sseText(': keep-alive\n\n'), undefined);
  });
});
