/**
 * The server-sent events `serve` answers a streamed `/chat` with: `delta` pieces of the answer as the
 * model writes them, then `done` (the same JSON as a plain answer) or `error` (the error JSON).
 * Hands each piece over as it comes and answers the last event's JSON; undefined when the stream
 * ended before either.
 */
export async function readAnswerStream(body: ReadableStream<Uint8Array>, onDelta: (text: string) => void): Promise<unknown> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    // Normalised on the whole buffer, so a CRLF split across two chunks still counts as one line end.
    buffer = (buffer + decoder.decode(chunk, { stream: true })).replace(/\r\n/g, '\n');
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const event = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
