// A Server-Sent Events reader for a fetch response body. The console reads event streams with
// fetch rather than EventSource because EventSource cannot send an Authorization header.

/** Reads Server-Sent Events from a fetch response body; calls `onEvent(id, type, data)` per event. */
export async function readSse(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replaceAll('\r\n', '\n');
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let id = null;
        let type = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') id = value;
          else if (field === 'event') type = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length) onEvent(id, type, data.join('\n'));
      }
    }
  } finally {
    reader.releaseLock();
  }
}
