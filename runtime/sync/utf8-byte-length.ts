/**
 * The UTF-8 length of a string without encoding it: `Buffer.byteLength` is Node-only and
 * `TextEncoder.encode(s).length` allocates, and the request builder measures a table name for
 * every document of a batch.
 */

/**
 * Bytes of `text` in UTF-8 as `TextEncoder` writes it: a lone surrogate counts as U+FFFD (three
 * bytes), as the encoder replaces it.
 */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
    } else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: two code units, four bytes.
      bytes += 2;
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}
