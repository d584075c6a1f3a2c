// Stanch's robustness views for a banked picture, computed in the browser: a port of
// stanch/signals/robust.py (purpose "bank") and of the C kernels it calls (stanch/signals/_kernels.c).
//
// A picture sent with a takedown request becomes a bank entry. Without its views, a banked picture
// misses copies that were letterboxed, captioned, cropped, mirrored or turned (README, "Robustness
// signals"). Each view is a plain PDQ hash (pdq.js) of a window of the picture or of its turned pixels:
//   trimmed, content            uniform borders and chrome (caption bars, screenshot margins) peeled off;
//   anchored1-9, spare1-27      windows between the strongest peaks of the gradient-energy profiles;
//   crop1-8                     the windows copies cropped by 0-15 % would be anchored on;
//   mirrored, flipped, rotated180, rotated90, rotated270, antitransposed   the really turned pixels.
// Names, windows and order are robust.py's; the same luma gives the same windows, and hashes within a
// few bits (float rounding; tests/web/test_robust_js_node.py measures it).
//
// Pure functions, no I/O, no dependencies beyond pdq.js: runs in a page, a Web Worker and Node.

import { MIN_HASHABLE_DIM, pdqFromLuma } from './pdq.js';

const f32 = Math.fround;

/** Hashes of lower quality are not reported: Meta gives no guarantee for them (robust.MIN_QUALITY). */
export const MIN_QUALITY = 50;

const WORK_SIDE = 256; // borders are found on a copy sampled to at most this many pixels a side
const HASH_SIDE = 384; // views are hashed on a copy reduced by a whole factor to at least this side
const TOLERANCE = 10.0; // grey levels within which a pixel has its line's colour
const UNIFORM = 0.98; // share of a line at its colour for the line to be a uniform border
const CHROME = 0.45; // share of a line at its colour for it to stay in a band of chrome
const ANCHORS = 3; // anchors per axis of the anchored windows
const BANK_ANCHORS = 4; // with the spare windows' fourth
const ANCHOR_SMOOTHING = 0.01; // the Gaussian's width, as a share of the profile
const ANCHOR_SEPARATION = 0.15; // anchors on one axis are at least this share of the side apart
const MIN_KEEP = 0.2; // a view keeps at least this share of each side
const MIN_CHANGE = 0.02; // ... and removes at least this share of one side
const CROP_STEP = 0.05;
const CROP_STEPS = 3;
const CROP_VIEWS = 8;
const MIN_WINDOW = 0.3; // a window keeps at least this share of each side (robust._MIN_WINDOW)
const SAME_ANCHOR = 0.003;

/** How much each simulated crop takes off one axis (start, end), in robust.py's order and arithmetic. */
const CROP_CUTS = [];
for (let first = 0; first <= CROP_STEPS; first++) {
  for (let last = 0; last <= CROP_STEPS - first; last++) CROP_CUTS.push([first * CROP_STEP, last * CROP_STEP]);
}

/** The turns that involve a flip: [name, flip rows, flip columns, transposed]; robust._TURNS. */
const TURNS = [
  ['mirrored', false, true, false],
  ['flipped', true, false, false],
  ['rotated180', true, true, false],
  ['rotated90', false, true, true],
  ['rotated270', true, false, true],
  ['antitransposed', true, true, true],
];

/** Index of the transposed DCT's hash in pdqFromLuma's pdq_dihedral (DIHEDRAL_NAMES 'flip_plus1'). */
const TRANSPOSED = 6;

/**
 * The bank views of a picture given as its luma (Float32Array, width*height, rows top down; not
 * modified): [{name, pdq, quality}] with quality >= MIN_QUALITY, as `stanch hash --for bank` reports
 * them in `pdq_variants`.
 */
export function bankVariants(luma, width, height) {
  const full = { data: luma, width, height };
  const small = reduce(full);
  const views = [...borderViews(full, small), ...anchoredViews(small, BANK_ANCHORS)];
  const known = new Set(views.map(([, box]) => box.join(',')));
  views.push(...cropViews(small, known));
  const hashed = new Map();
  const variants = views.map(([name, box]) => ({ name, ...hashWindow(small, box, hashed) }));
  const turned = new Map();
  for (const [name, flipRows, flipColumns, transposed] of TURNS) {
    const key = `${flipRows},${flipColumns}`;
    if (!turned.has(key)) turned.set(key, pdqFromLuma(turn(small, flipRows, flipColumns), small.width, small.height));
    const { pdq_dihedral: dihedral, quality } = turned.get(key);
    variants.push({ name, pdq: dihedral[transposed ? TRANSPOSED : 0], quality });
  }
  return variants.filter((variant) => variant.quality >= MIN_QUALITY);
}

// PDQ of plane[top:bottom, left:right]; the all-zero hash and quality 0 below PDQ's minimum size.
function hashWindow(plane, [top, bottom, left, right], cache) {
  const key = `${top},${bottom},${left},${right}`;
  if (!cache.has(key)) {
    const rows = Math.max(0, bottom - top);
    const cols = Math.max(0, right - left);
    if (rows < MIN_HASHABLE_DIM || cols < MIN_HASHABLE_DIM) {
      cache.set(key, { pdq: '0'.repeat(64), quality: 0 });
    } else {
      const copy = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        const start = (top + r) * plane.width + left;
        copy.set(plane.data.subarray(start, start + cols), r * cols);
      }
      const { pdq, quality } = pdqFromLuma(copy, cols, rows);
      cache.set(key, { pdq, quality });
    }
  }
  return cache.get(key);
}

// A copy of the plane with its rows and/or columns reversed.
function turn(plane, flipRows, flipColumns) {
  const { data, width, height } = plane;
  const out = new Float32Array(width * height);
  for (let r = 0; r < height; r++) {
    const from = (flipRows ? height - 1 - r : r) * width;
    for (let c = 0; c < width; c++) out[r * width + c] = data[from + (flipColumns ? width - 1 - c : c)];
  }
  return out;
}

function transpose(plane) {
  const { data, width, height } = plane;
  const out = new Float32Array(width * height);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) out[c * height + r] = data[r * width + c];
  }
  return { data: out, width: height, height: width };
}

// Python's round(): halves go to the even neighbour.
function pyRound(x) {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

// robust._reduce: block means of a whole size (Pillow's reduce: partial blocks at the far edges are
// averaged over the pixels they have) when the shorter side is at least twice HASH_SIDE.
function reduce(plane) {
  const factor = Math.floor(Math.min(plane.width, plane.height) / HASH_SIDE);
  if (factor <= 1) return plane;
  const { data, width, height } = plane;
  const outWidth = Math.ceil(width / factor);
  const outHeight = Math.ceil(height / factor);
  const out = new Float32Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const rowEnd = Math.min(height, (y + 1) * factor);
    for (let x = 0; x < outWidth; x++) {
      const colEnd = Math.min(width, (x + 1) * factor);
      let sum = 0;
      for (let r = y * factor; r < rowEnd; r++) {
        for (let c = x * factor; c < colEnd; c++) sum += data[r * width + c];
      }
      out[y * outWidth + x] = sum * (1 / ((rowEnd - y * factor) * (colEnd - x * factor)));
    }
  }
  return { data: out, width: outWidth, height: outHeight };
}

// --- Border views: trimmed and content (robust._border_views) ---

function borderViews(full, small) {
  const step = Math.max(1, Math.ceil(Math.max(full.width, full.height) / WORK_SIDE));
  const grey = sampled(full, step);
  const whole = [0, grey.height, 0, grey.width];
  const views = [['trimmed', trim(grey, whole)], ['content', stripChrome(grey, whole)]];
  const seen = new Set();
  const found = [];
  for (const [name, box] of views) {
    const exact = fullResolution(box, step, grey, full);
    const scaled = scaledBox(exact, full, small);
    if (seen.has(scaled.join(',')) || !worthHashing(exact, full.height, full.width)) continue;
    seen.add(scaled.join(','));
    found.push([name, scaled]);
  }
  return found;
}

// Every step-th pixel from step / 2: text and icons stay as thin as they are.
function sampled(plane, step) {
  const first = Math.floor(step / 2);
  const width = Math.ceil((plane.width - first) / step);
  const height = Math.ceil((plane.height - first) / step);
  const out = new Float32Array(width * height);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) out[r * width + c] = plane.data[(first + r * step) * plane.width + first + c * step];
  }
  return { data: out, width, height };
}

function trim(grey, box) {
  for (;;) {
    const runs = [0, 1, 2, 3].map((side) => leadingShares(grey, box, side, UNIFORM).length);
    const peeled = shrink(box, runs);
    if (sameBox(peeled, box) || tooSmall(peeled, grey)) return box;
    box = peeled;
  }
}

// One band of chrome per round, from the side whose band is flattest.
function stripChrome(grey, box) {
  for (;;) {
    let best = 0;
    let bestFlatness = 0;
    let bestRun = 0;
    for (let side = 0; side < 4; side++) {
      const band = leadingShares(grey, box, side, CHROME);
      if (!band.length || band[0] < UNIFORM) continue;
      let total = 0;
      for (const share of band) total += share;
      const flatness = total / band.length;
      if (flatness > bestFlatness) [best, bestFlatness, bestRun] = [side, flatness, band.length];
    }
    const runs = [0, 0, 0, 0];
    runs[best] = bestRun;
    const peeled = shrink(box, runs);
    if (sameBox(peeled, box) || tooSmall(peeled, grey)) return box;
    box = peeled;
  }
}

// The lines of grey[box] seen from `side` (0 top, 1 bottom, 2 left, 3 right), outermost first: the
// colour of the first (its upper median), then each leading line's share of pixels within TOLERANCE
// of it while that share is at least `minimum` (the C kernel leading_shares).
function leadingShares(grey, [top, bottom, left, right], side, minimum) {
  const vertical = side >= 2;
  const count = vertical ? right - left : bottom - top;
  const length = vertical ? bottom - top : right - left;
  if (count <= 0 || length <= 0) return [];
  const at = (line, position) => {
    const row = vertical ? top + position : side === 0 ? top + line : bottom - 1 - line;
    const col = !vertical ? left + position : side === 2 ? left + line : right - 1 - line;
    return grey.data[row * grey.width + col];
  };
  const first = new Float32Array(length);
  for (let p = 0; p < length; p++) first[p] = at(0, p);
  const colour = first.sort()[Math.floor(length / 2)];
  const shares = [];
  for (let line = 0; line < count; line++) {
    let near = 0;
    for (let p = 0; p < length; p++) near += Math.abs(f32(at(line, p) - colour)) <= TOLERANCE ? 1 : 0;
    const share = near / length;
    if (share < minimum) break;
    shares.push(share);
  }
  return shares;
}

function shrink([top, bottom, left, right], runs) {
  return [top + runs[0], bottom - runs[1], left + runs[2], right - runs[3]];
}

function sameBox(a, b) {
  return a.every((value, index) => value === b[index]);
}

function tooSmall([top, bottom, left, right], grey) {
  return bottom - top < grey.height * MIN_KEEP || right - left < grey.width * MIN_KEEP;
}

// A box on the sampled copy in pixels; an untouched edge stays at the picture's edge.
function fullResolution([top, bottom, left, right], step, grey, full) {
  const half = Math.floor(step / 2);
  return [
    top ? top * step + half : 0,
    bottom === grey.height ? full.height : bottom * step + half,
    left ? left * step + half : 0,
    right === grey.width ? full.width : right * step + half,
  ];
}

function scaledBox([top, bottom, left, right], full, small) {
  const rows = small.height / full.height;
  const cols = small.width / full.width;
  return [pyRound(top * rows), pyRound(bottom * rows), pyRound(left * cols), pyRound(right * cols)];
}

function worthHashing([top, bottom, left, right], height, width) {
  const keptHeight = (bottom - top) / height;
  const keptWidth = (right - left) / width;
  if (keptHeight < MIN_KEEP || keptWidth < MIN_KEEP) return false;
  return keptHeight <= 1 - MIN_CHANGE || keptWidth <= 1 - MIN_CHANGE;
}

// --- Anchored and spare windows (robust._anchored_views) ---

function anchoredViews(plane, count) {
  const columns = anchors(edgeProfile(plane, 0, plane.height), count);
  const turned = transpose(plane);
  const rows = anchors(edgeProfile(turned, 0, turned.height), count);
  const named = [];
  const spare = [];
  for (const [i, j] of pairs(rows.length)) {
    for (const [k, m] of pairs(columns.length)) {
      const [top, bottom] = [rows[i], rows[j]].sort((a, b) => a - b);
      const [left, right] = [columns[k], columns[m]].sort((a, b) => a - b);
      const isNamed = Math.max(i, j, k, m) < ANCHORS;
      const views = isNamed ? named : spare;
      const box = [pyRound(top), pyRound(bottom), pyRound(left), pyRound(right)];
      views.push([`${isNamed ? 'anchored' : 'spare'}${views.length + 1}`, box]);
    }
  }
  return [...named, ...spare].filter(([, box]) => wideEnough(box, plane));
}

// robust._wide_enough: the window keeps MIN_WINDOW of the height and of the width.
function wideEnough([top, bottom, left, right], plane) {
  return bottom - top >= MIN_WINDOW * plane.height && right - left >= MIN_WINDOW * plane.width;
}

// itertools.combinations(range(n), 2), in its order.
function pairs(n) {
  const found = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) found.push([i, j]);
  return found;
}

function anchors(profile, count) {
  return strongest(peaks(profile).positions, count, ANCHOR_SEPARATION * profile.length);
}

function strongest(positions, count, separation) {
  const chosen = [];
  for (const position of positions) {
    if (chosen.every((other) => Math.abs(position - other) >= separation)) {
      chosen.push(position);
      if (chosen.length === count) break;
    }
  }
  return chosen;
}

// The C kernel edge_profile on plane rows [start, stop): for each column, the mean absolute step to
// the next column over rows sampled every (rows / 512)-th from half a step in.
function edgeProfile(plane, start, stop) {
  const { data, width } = plane;
  const rows = stop - start;
  const step = Math.max(1, Math.floor(rows / 512));
  const sums = new Float64Array(Math.max(width - 1, 0));
  for (let r = start + Math.floor(step / 2); r < stop; r += step) {
    const base = r * width;
    for (let c = 0; c < width - 1; c++) sums[c] += Math.abs(f32(data[base + c + 1] - data[base + c]));
  }
  const lines = Math.floor((rows - Math.floor(step / 2) + step - 1) / step);
  return Float32Array.from(sums, (sum) => sum / lines);
}

// The C kernel peaks: local maxima of the profile (as float32) smoothed by a Gaussian, strongest first
// (equal ones by position), with their positions refined on the parabola through their neighbours.
function peaks(input) {
  const profile = Float32Array.from(input);
  const n = profile.length;
  if (n < 3) return { indices: [], positions: [] };
  const smooth = gaussianSmooth(profile, Math.max(ANCHOR_SMOOTHING * n, 1.0));
  const found = [];
  for (let i = 1; i < n - 1; i++) {
    if (smooth[i] >= smooth[i - 1] && smooth[i] > smooth[i + 1]) found.push(i);
  }
  found.sort((a, b) => (smooth[a] !== smooth[b] ? smooth[b] - smooth[a] : a - b));
  const positions = found.map((i) => {
    const curvature = smooth[i - 1] - 2 * smooth[i] + smooth[i + 1];
    return i + (curvature !== 0 ? (0.5 * (smooth[i - 1] - smooth[i + 1])) / curvature : 0);
  });
  return { indices: found, positions };
}

// Edges extended; summed tap by tap, in the C kernel's order.
function gaussianSmooth(profile, sigma) {
  const n = profile.length;
  const radius = Math.floor(3 * sigma) + 1;
  const taps = 2 * radius + 1;
  const kernel = new Float64Array(taps);
  let total = 0;
  for (let k = 0; k < taps; k++) {
    kernel[k] = Math.exp(-0.5 * ((k - radius) / sigma) * ((k - radius) / sigma));
    total += kernel[k];
  }
  for (let k = 0; k < taps; k++) kernel[k] /= total;
  const padded = new Float64Array(n + 2 * radius);
  for (let i = 0; i < padded.length; i++) padded[i] = profile[Math.min(Math.max(i - radius, 0), n - 1)];
  const smooth = new Float64Array(n);
  for (let k = 0; k < taps; k++) {
    for (let i = 0; i < n; i++) smooth[i] += kernel[k] * padded[i + k];
  }
  return smooth;
}

// --- Crop windows (robust._crop_views) ---

function cropViews(plane, known) {
  if (Math.min(plane.width, plane.height) < 3) return [];
  const columns = cutAnchors(plane); // [cut of the rows][cut of the columns]
  const rows = cutAnchors(transpose(plane)); // [cut of the columns][cut of the rows]
  const counts = new Map(); // insertion order breaks ties, as Counter.most_common does
  for (let i = 0; i < CROP_CUTS.length; i++) {
    for (let j = 0; j < CROP_CUTS.length; j++) {
      for (const [top, bottom] of pairValues(rows[j][i])) {
        for (const [left, right] of pairValues(columns[i][j])) {
          const key = `${top},${bottom},${left},${right}`;
          counts.set(key, (counts.get(key) || 0) + 1);
        }
      }
    }
  }
  const ranked = [...counts.entries()].map(([key, count], order) => ({ key, count, order }));
  ranked.sort((a, b) => b.count - a.count || a.order - b.order);
  return ranked
    .filter(({ key }) => !known.has(key) && wideEnough(key.split(',').map(Number), plane))
    .slice(0, CROP_VIEWS)
    .map(({ key }, n) => [`crop${n + 1}`, key.split(',').map(Number)]);
}

function pairValues(values) {
  return pairs(values.length).map(([i, j]) => [values[i], values[j]]);
}

// For each cut of the rows, then each cut of the columns, the anchors a copy so cropped finds on its
// columns, in pixels of the plane, left to right; anchors within SAME_ANCHOR of one found earlier
// snap to it.
function cutAnchors(plane) {
  const seen = [];
  const tolerance = SAME_ANCHOR * plane.width;
  return keptProfiles(plane).map((profile) => {
    const length = profile.length;
    const { indices, positions } = peaks(profile);
    return CROP_CUTS.map(([first, last]) => {
      const start = pyRound(length * first);
      const stop = length - pyRound(length * last);
      const inside = positions.filter((_, n) => indices[n] > start && indices[n] < stop - 1);
      const chosen = strongest(inside, ANCHORS, ANCHOR_SEPARATION * (stop - start));
      return chosen.map((anchor) => pyRound(snap(anchor, seen, tolerance))).sort((a, b) => a - b);
    });
  });
}

// The column profile of the rows each cut keeps, times their count, from blocks between cuts.
function keptProfiles(plane) {
  const rows = plane.height;
  const kept = CROP_CUTS.map(([first, last]) => [pyRound(rows * first), rows - pyRound(rows * last)]);
  const bounds = [...new Set(kept.flat())].sort((a, b) => a - b);
  const sums = [new Float64Array(Math.max(plane.width - 1, 0))];
  for (let b = 1; b < bounds.length; b++) {
    const block = edgeProfile(plane, bounds[b - 1], bounds[b]);
    const count = bounds[b] - bounds[b - 1];
    const previous = sums[b - 1];
    sums.push(Float64Array.from(block, (value, c) => previous[c] + f32(value * count)));
  }
  const index = new Map(bounds.map((edge, n) => [edge, n]));
  return kept.map(([start, stop]) => {
    const from = sums[index.get(start)];
    return Float64Array.from(sums[index.get(stop)], (value, c) => value - from[c]);
  });
}

function snap(position, seen, tolerance) {
  for (const other of seen) {
    if (Math.abs(position - other) <= tolerance) return other;
  }
  seen.push(position);
  return position;
}
