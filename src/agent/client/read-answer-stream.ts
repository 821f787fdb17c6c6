/**
 * The server-sent events `serve` answers a streamed `/chat` with: `delta` pieces of the answer as the
 * model writes them, then `done` (the same JSON as a plain answer) or `error` (the error JSON).
 * Hands each piece over as it comes and answers the last event's JSON; undefined when the stream
 * ended before either. `body` is bounded by the caller (chunksWithin).
 */
export async function readAnswerStream(body: AsyncIterable<Uint8Array>, onDelta: (text: string) => void): Promise<unknown> {
  const blocksOf = eventBlocks();
  for await (const chunk of body) {
    for (const block of blocksOf(chunk)) {
      const event = parseEvent(block);
      if (event.name === 'delta') {
        const text = (parseJson(event.data) as { text?: unknown } | undefined)?.text;
        if (typeof text === 'string') onDelta(text);
      } else if (event.name === 'done' || event.name === 'error') {
        return parseJson(event.data);
      }
    }
  }
  return undefined;
}

/**
 * Cuts a byte stream into event blocks (the text between blank lines), a CRLF read as LF even when
 * split across two chunks. Each byte is looked at once, so an event that never ends costs time in
 * proportion to its length, not to its square.
 */
function eventBlocks(): (chunk: Uint8Array) => string[] {
  const decoder = new TextDecoder();
  /** The unfinished event, in pieces (joined once it is complete). */
  let event: string[] = [];
  let eventEndsWithNewline = false;
  /** A CR ending the last chunk, perhaps the first half of a CRLF. */
  let carriedCr = false;
  return (chunk) => {
    let text = `${carriedCr ? '\r' : ''}${decoder.decode(chunk, { stream: true })}`;
    carriedCr = text.endsWith('\r');
    text = (carriedCr ? text.slice(0, -1) : text).replace(/\r\n/g, '\n');
    const blocks: string[] = [];
    if (text === '') return blocks;
    // A blank line split across two chunks: the event's last newline, then this one.
    if (eventEndsWithNewline && text.startsWith('\n')) {
      blocks.push(event.join(''));
      event = [];
      text = text.slice(1);
    }
    const pieces = text.split('\n\n');
    const rest = pieces.pop()!;
    for (const piece of pieces) {
      blocks.push(event.join('') + piece);
      event = [];
    }
    if (rest !== '') event.push(rest);
    eventEndsWithNewline = rest.endsWith('\n');
    return blocks;
  };
}

function parseEvent(block: string): { name: string; data: string } {
  let name = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    // A line starting with ':' is a comment (keep-alive); a field's value loses one leading space.
    if (colon === 0) continue;
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  return { name, data: data.join('\n') };
}

/** The JSON of `text`, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
