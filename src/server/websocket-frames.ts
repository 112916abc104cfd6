/**
 * Unmasked, unfragmented text frames (RFC 6455 5.2), as ws's Sender writes a server's messages
 * when no extension is negotiated, for several messages at once: one buffer, one write.
 */
export function textFrames(messages: readonly string[]): Buffer {
  const lengths = new Array<number>(messages.length);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const length = Buffer.byteLength(messages[i] as string);
    lengths[i] = length;
    total += headerLength(length) + length;
  }
  const frames = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < messages.length; i++) {
    const length = lengths[i] as number;
    frames[offset] = 0x81; // FIN, text
    if (length < 126) {
      frames[offset + 1] = length;
      offset += 2;
    } else if (length < 65536) {
      frames[offset + 1] = 126;
      frames.writeUInt16BE(length, offset + 2);
      offset += 4;
    } else {
      frames[offset + 1] = 127;
      frames.writeUInt32BE(Math.floor(length / 2 ** 32), offset + 2);
      frames.writeUInt32BE(length >>> 0, offset + 6);
      offset += 10;
    }
    offset += frames.write(messages[i] as string, offset, length, 'utf8');
  }
  return frames;
}

const headerLength = (length: number): number => (length < 126 ? 2 : length < 65536 ? 4 : 10);
