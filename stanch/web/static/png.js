// A small PNG decoder for pictures with an alpha channel (colour types 4 and 6), used instead of the
// browser's decoder for those files only.
//
// Why: browsers premultiply colour by alpha while decoding, so a half-transparent pixel comes back with
// rounded colour and a fully transparent one with none. Pillow keeps the stored colour, and pdqhash
// hashes it (alpha is ignored), so on translucent PNGs the browser's decode drifted up to 14 bits from
// the reference. Decoding the file here gives Pillow's pixels exactly. 16-bit samples keep their high
// byte, as Pillow does. Inflating uses the platform's DecompressionStream.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// Adam7 interlacing passes: start column, start row, column step, row step.
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/**
 * The PNG header if `head` (the first 33 bytes of a file) starts a PNG with an alpha channel that this
 * decoder handles, else null. Then `decodeAlphaPng` gives the same pixels as Pillow.
 */
export function alphaPngHeader(head) {
  if (head.length < 33 || SIGNATURE.some((byte, i) => head[i] !== byte)) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (String.fromCharCode(...head.subarray(12, 16)) !== 'IHDR') return null;
  const header = {
    width: view.getUint32(16),
    height: view.getUint32(20),
    depth: head[24],
    colourType: head[25],
    interlaced: head[28] === 1,
  };
  const supported = (header.colourType === 4 || header.colourType === 6) && (header.depth === 8 || header.depth === 16);
  return supported && typeof DecompressionStream === 'function' ? header : null;
}

/**
 * Decode a PNG whose header alphaPngHeader accepted: `{pixels, width, height}`, RGBA with the stored
 * (unpremultiplied) colour; or null when the file carries an EXIF orientation (an eXIf chunk), which
 * the browser's decoder applies.
 */
export async function decodeAlphaPng(blob, header) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const { idat, exif } = chunksOf(bytes);
  if (exif) return null;
  const { width, height, depth, colourType, interlaced } = header;
  const channels = colourType === 6 ? 4 : 2;
  const pixelBytes = (channels * depth) / 8;
  const passes = interlaced ? ADAM7 : [[0, 0, 1, 1]];
  const sizes = passes.map(([x0, y0, dx, dy]) => {
    const columns = Math.ceil((width - x0) / dx);
    const rows = Math.ceil((height - y0) / dy);
    return { columns, rows, rowBytes: columns > 0 ? columns * pixelBytes : 0 };
  });
  const total = sizes.reduce((sum, s) => sum + (s.columns > 0 ? s.rows * (1 + s.rowBytes) : 0), 0);
  const raw = await inflate(idat, total);
  const rgba = new Uint8ClampedArray(width * height * 4);
  let offset = 0;
  passes.forEach(([x0, y0, dx, dy], pass) => {
    const { columns, rows, rowBytes } = sizes[pass];
    if (columns <= 0 || rows <= 0) return;
    unfilter(raw, offset, rows, rowBytes, pixelBytes);
    for (let r = 0; r < rows; r++) {
      const row = offset + r * (rowBytes + 1) + 1;
      for (let c = 0; c < columns; c++) {
        const p = row + c * pixelBytes;
        const sample = (i) => raw[p + (i * depth) / 8]; // high byte of 16-bit samples
        const q = ((y0 + r * dy) * width + x0 + c * dx) * 4;
        if (channels === 4) {
          rgba[q] = sample(0);
          rgba[q + 1] = sample(1);
          rgba[q + 2] = sample(2);
          rgba[q + 3] = sample(3);
        } else {
          rgba[q] = rgba[q + 1] = rgba[q + 2] = sample(0);
          rgba[q + 3] = sample(1);
        }
      }
    }
    offset += rows * (rowBytes + 1);
  });
  return { pixels: rgba, width, height };
}

// The concatenated IDAT chunks (the zlib stream), and whether there is an eXIf chunk.
function chunksOf(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts = [];
  let exif = false;
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) throw new Error('this PNG file is cut short or damaged');
    if (type === 'IDAT') parts.push(bytes.subarray(at + 8, at + 8 + length));
    if (type === 'eXIf') exif = true;
    if (type === 'IEND') break;
    at += 12 + length;
  }
  if (parts.length === 0) throw new Error('this PNG file has no image data');
  return { idat: new Blob(parts), exif };
}

// Inflate into exactly `size` bytes; more or fewer means a damaged file (or a decompression bomb).
async function inflate(zlibData, size) {
  const out = new Uint8Array(size);
  let filled = 0;
  const reader = zlibData.stream().pipeThrough(new DecompressionStream('deflate')).getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      throw new Error('this PNG file is damaged (its image data does not unpack)');
    });
    if (done) break;
    if (filled + value.length > size) {
      await reader.cancel();
      throw new Error('this PNG file is damaged (more image data than its size says)');
    }
    out.set(value, filled);
    filled += value.length;
  }
  if (filled !== size) throw new Error('this PNG file is damaged (less image data than its size says)');
  return out;
}

// Undo the per-row filters (PNG specification, section 9) in place.
function unfilter(raw, offset, rows, rowBytes, bpp) {
  for (let r = 0; r < rows; r++) {
    const start = offset + r * (rowBytes + 1);
    const filter = raw[start];
    const cur = start + 1;
    const prev = r > 0 ? cur - (rowBytes + 1) : -1;
    for (let i = 0; i < rowBytes; i++) {
      const left = i >= bpp ? raw[cur + i - bpp] : 0;
      const up = prev >= 0 ? raw[prev + i] : 0;
      const upLeft = prev >= 0 && i >= bpp ? raw[prev + i - bpp] : 0;
      let predictor;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = left; break;
        case 2: predictor = up; break;
        case 3: predictor = (left + up) >> 1; break;
        case 4: predictor = paeth(left, up, upLeft); break;
        default: throw new Error('this PNG file is damaged (unknown row filter)');
      }
      raw[cur + i] = (raw[cur + i] + predictor) & 0xff;
    }
  }
}

function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}
