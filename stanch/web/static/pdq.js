// PDQ, Meta's perceptual image hash, computed from pixels in plain JavaScript.
//
// This follows Meta's C++ reference (ThreatExchange pdq/cpp: pdqhashing.cpp, downscaling.cpp,
// torben.cpp) step by step, and rounds every intermediate to 32-bit float exactly where the C++ code
// holds a `float`, so that on the same pixels it gives the same bits as `pdqhash` (which wraps that C++).
// Steps: RGB -> luma (0.299, 0.587, 0.114); two passes of a Jarosz box filter along rows then columns,
// window sizes from the image size; decimation to 64x64 at pixel centres; quality from the sum of
// quantised gradients; 16x16 corner of the 2-D DCT; one bit per coefficient: above the median or not.
// The 8 dihedral hashes (rotations and flips) come from sign flips and transposes of that 16x16 DCT.
//
// Pure functions, no I/O: the same file runs in a browser, a Web Worker and Node (for the tests).

const f32 = Math.fround;

/** Images smaller than this on either side get the all-zero hash and quality 0, as in the reference. */
export const MIN_HASHABLE_DIM = 5;

/** Order of `pdq_dihedral`, the same as pdqhash's compute_dihedral and Stanch's DIHEDRAL_NAMES. */
export const DIHEDRAL_NAMES = Object.freeze([
  'original', 'rotate90', 'rotate180', 'rotate270', 'flipx', 'flipy', 'flip_plus1', 'flip_minus1',
]);

const DCT_MATRIX = buildDctMatrix();

// Rows 1..16 of the 64-point DCT-II basis, 16 x 64 row-major, scaled by sqrt(2/64).
function buildDctMatrix() {
  const matrix = new Float32Array(16 * 64);
  const scale = f32(Math.sqrt(2.0 / 64));
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      matrix[i * 64 + j] = scale * Math.cos((Math.PI / 2.0 / 64) * (i + 1) * (2 * j + 1));
    }
  }
  return matrix;
}

/**
 * Luma of every pixel, row-major, as 32-bit floats.
 *
 * `pixels` holds `channels` bytes per pixel (3 for RGB, 4 for canvas RGBA, whose alpha is ignored),
 * rows top to bottom. The weighted sum is taken in double precision and rounded once, as pdqhash does.
 */
export function lumaFromPixels(pixels, width, height, channels) {
  const count = width * height;
  if (pixels.length < count * channels) {
    throw new RangeError(`expected ${count * channels} bytes of pixels for ${width}x${height}, got ${pixels.length}`);
  }
  const luma = new Float32Array(count);
  for (let p = 0, q = 0; p < count; p++, q += channels) {
    luma[p] = pixels[q] * 0.299 + pixels[q + 1] * 0.587 + pixels[q + 2] * 0.114;
  }
  return luma;
}

/**
 * PDQ hash, quality and the 8 dihedral hashes of a luma image.
 *
 * `luma` (a Float32Array of width*height) is used as scratch space and overwritten.
 * Returns `{pdq, quality, pdq_dihedral}` with hashes as 64 lowercase hex digits, bits packed
 * most-significant first (the ThreatExchange / StopNCII exchange form).
 */
export function pdqFromLuma(luma, width, height) {
  if (width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM) {
    const zero = '0'.repeat(64);
    return { pdq: zero, quality: 0, pdq_dihedral: DIHEDRAL_NAMES.map(() => zero) };
  }
  const small = downsampleTo64(luma, width, height);
  const quality = qualityOf64(small);
  const dct = dct64To16(small);
  const pdq_dihedral = dihedralDcts(dct).map(hexFromDct);
  return { pdq: pdq_dihedral[0], quality, pdq_dihedral };
}

// Blur with the Jarosz tent filter (box filter twice in each direction) and keep 64x64 samples.
function downsampleTo64(luma, width, height) {
  const alongRows = jaroszWindowSize(width);
  const alongCols = jaroszWindowSize(height);
  const scratch = new Float32Array(width * height);
  for (let pass = 0; pass < 2; pass++) {
    boxAlongRows(luma, scratch, width, height, alongRows);
    boxAlongCols(scratch, luma, width, height, alongCols);
  }
  return decimateTo64(luma, width, height);
}

// Half of 1/64 of the side, rounded up: two passes then cover one output pixel's share.
function jaroszWindowSize(size) {
  return Math.floor((size + 2 * 64 - 1) / (2 * 64));
}

// One box filter over a vector: the reference's four phases (grow the window, slide it, shrink it).
function boxAlongRows(input, output, width, height, window) {
  const half = Math.floor((window + 2) / 2);
  for (let row = 0; row < height; row++) {
    const base = row * width;
    let sum = 0;
    let size = 0;
    let right = base;
    let left = base;
    let out = base;
    for (let i = 0; i < half - 1; i++) {
      sum = f32(sum + input[right++]);
      size++;
    }
    for (let i = 0; i < window - half + 1; i++) {
      sum = f32(sum + input[right++]);
      size++;
      output[out++] = sum / size;
    }
    for (let i = 0; i < width - window; i++) {
      sum = f32(sum + input[right++]);
      sum = f32(sum - input[left++]);
      output[out++] = sum / size;
    }
    for (let i = 0; i < half - 1; i++) {
      sum = f32(sum - input[left++]);
      size--;
      output[out++] = sum / size;
    }
  }
}

// The same filter down every column; all columns advance together so memory is read row by row.
// Each column sees exactly the sequence of float operations the reference performs on it.
function boxAlongCols(input, output, width, height, window) {
  const half = Math.floor((window + 2) / 2);
  const sums = new Float32Array(width);
  let size = 0;
  let right = 0;
  let left = 0;
  let out = 0;
  const add = () => {
    for (let j = 0; j < width; j++) sums[j] += input[right + j];
    right += width;
  };
  const subtract = () => {
    for (let j = 0; j < width; j++) sums[j] -= input[left + j];
    left += width;
  };
  const write = () => {
    for (let j = 0; j < width; j++) output[out + j] = sums[j] / size;
    out += width;
  };
  for (let i = 0; i < half - 1; i++) {
    add();
    size++;
  }
  for (let i = 0; i < window - half + 1; i++) {
    add();
    size++;
    write();
  }
  for (let i = 0; i < height - window; i++) {
    add();
    subtract();
    write();
  }
  for (let i = 0; i < half - 1; i++) {
    subtract();
    size--;
    write();
  }
}

// Sample the blurred image at the centres of a 64x64 grid.
function decimateTo64(luma, width, height) {
  const small = new Float32Array(64 * 64);
  for (let i = 0; i < 64; i++) {
    const row = Math.floor(((i + 0.5) * height) / 64);
    for (let j = 0; j < 64; j++) {
      const col = Math.floor(((j + 0.5) * width) / 64);
      small[i * 64 + j] = luma[row * width + col];
    }
  }
  return small;
}

// Meta's heuristic: sum of vertical and horizontal gradients, each quantised to whole percent.
function qualityOf64(small) {
  let gradientSum = 0;
  const step = (u, v) => Math.abs(Math.trunc(f32(f32(f32(u - v) * 100) / 255)));
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) gradientSum += step(small[i * 64 + j], small[(i + 1) * 64 + j]);
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) gradientSum += step(small[i * 64 + j], small[i * 64 + j + 1]);
  }
  return Math.min(100, Math.floor(gradientSum / 90));
}

// B = D A D^T, keeping only the 16x16 low frequencies (without the DC row and column).
function dct64To16(small) {
  const D = DCT_MATRIX;
  const T = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = f32(sum + f32(D[i * 64 + k] * small[k * 64 + j]));
      T[i * 64 + j] = sum;
    }
  }
  const B = new Float32Array(16 * 16);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = f32(sum + f32(T[i * 64 + k] * D[j * 64 + k]));
      B[i * 16 + j] = sum;
    }
  }
  return B;
}

// The DCTs of the 8 rotations and flips, in DIHEDRAL_NAMES order, as the reference derives them: a
// mirror along an axis negates the coefficients with an odd frequency (1-based, so an even array index)
// along that axis; a quarter turn or a diagonal flip also transposes.
function dihedralDcts(A) {
  const variant = (transpose, negate) => {
    const B = new Float32Array(256);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 16; j++) {
        const value = negate(i, j) ? -A[i * 16 + j] : A[i * 16 + j];
        B[transpose ? j * 16 + i : i * 16 + j] = value;
      }
    }
    return B;
  };
  const even = (n) => (n & 1) === 0;
  return [
    A,
    variant(true, (i, j) => even(j)),
    variant(false, (i, j) => !even(i + j)),
    variant(true, (i, j) => even(i)),
    variant(false, (i, j) => even(i)),
    variant(false, (i, j) => even(j)),
    variant(true, () => false),
    variant(true, (i, j) => !even(i + j)),
  ];
}

// One bit per coefficient, set when it is above the median; bit k = 16*row + col, and the hex form
// starts with bit 255 (pdqhash's vector reversed, then packed most-significant-bit first).
function hexFromDct(dct) {
  const median = torbenMedian(dct);
  const bytes = new Uint8Array(32);
  for (let k = 0; k < 256; k++) {
    if (dct[k] > median) bytes[31 - (k >> 3)] |= 1 << (k & 7);
  }
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

// Torben Mogensen's selection algorithm as the reference uses it: the median without sorting, with
// the reference's choice among the two middle values.
function torbenMedian(values) {
  const n = values.length;
  const half = (n + 1) >> 1;
  let min = values[0];
  let max = values[0];
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  for (;;) {
    const guess = f32((min + max) / 2);
    let less = 0;
    let greater = 0;
    let equal = 0;
    let maxBelow = min;
    let minAbove = max;
    for (const v of values) {
      if (v < guess) {
        less++;
        if (v > maxBelow) maxBelow = v;
      } else if (v > guess) {
        greater++;
        if (v < minAbove) minAbove = v;
      } else {
        equal++;
      }
    }
    if (less <= half && greater <= half) {
      if (less >= half) return maxBelow;
      if (less + equal >= half) return guess;
      return minAbove;
    }
    if (less > greater) max = maxBelow;
    else min = minAbove;
  }
}
