// Stanch's private hashing: fingerprints of pictures and videos computed on the person's own device.
//
// The files never leave the device: this module makes no network request (it loads only pdq.js,
// robust.js, md5.js, png.js and its worker, from the same folder) and sends nothing anywhere; the page that uses it
// sends only the hashes it returns.
//
//   hashImage(blob, {onProgress, maxPixels})  -> {pdq, quality, pdq_dihedral, pdq_variants, md5, sha256}
//   hashVideo(blob, {secondsPerHash, onProgress}) -> {md5, sha256, vpdq: [{pdq, quality, ts}]}
//   digestBlob(blob, {onProgress})            -> {md5, sha256}
//
// The heavy work runs in a module Web Worker (stanch-hash-worker.js) so the page stays responsive;
// where workers or OffscreenCanvas are missing it runs in the calling thread instead. `onProgress`
// receives `{stage, fraction}`: stage is 'reading', 'decoding', 'hashing' or 'frames', fraction is the
// approximate share of the whole job done (0 to 1).

import { Md5 } from './md5.js';
import { DIHEDRAL_NAMES, lumaFromPixels, pdqFromLuma } from './pdq.js';
import { alphaPngHeader, decodeAlphaPng } from './png.js';
import { bankVariants } from './robust.js';

export { DIHEDRAL_NAMES };

/** Files are read this many bytes at a time, with progress reported between pieces. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Pictures with more pixels are decoded scaled down to this many (keeping their shape) before PDQ,
 * so a 50-100 megapixel phone photo does not exhaust a phone's memory. PDQ itself reduces every
 * picture to 64x64, so the hash changes little (the README gives the measured effect).
 */
export const MAX_DECODE_PIXELS = 24_000_000;

/** A video that neither loads nor seeks nor fails for this long is given up with an error. */
export const VIDEO_STALL_MS = 30_000;

/**
 * Hash one picture: PDQ with quality and the 8 rotations/flips, the bank views (`pdq_variants`,
 * [{name, pdq, quality}] as `stanch hash --for bank` gives them: the picture is sent to be banked),
 * plus MD5 and SHA-256 of the file.
 *
 * EXIF orientation is honoured, as a person sees the picture. Rejects with an Error whose message says
 * what went wrong and what to do (not a picture, a format this browser cannot open, ...).
 */
export async function hashImage(blob, { onProgress, maxPixels = MAX_DECODE_PIXELS } = {}) {
  checkBlob(blob);
  const helper = await startHelper();
  try {
    return await helper.run({ kind: 'image', blob, maxPixels }, onProgress);
  } finally {
    helper.close();
  }
}

/**
 * Hash a video as vPDQ-style frame hashes, one every `secondsPerHash` seconds, plus MD5 and SHA-256.
 *
 * Frames come from a <video> element drawn on a canvas, so this needs a page (not a worker, not Node)
 * and only formats this browser can play can be hashed; `ts` is the frame's time in seconds (to the
 * millisecond).
 */
export async function hashVideo(blob, { secondsPerHash = 1, onProgress } = {}) {
  checkBlob(blob);
  if (typeof document === 'undefined') {
    throw new Error('hashVideo needs a web page: it plays the video in a <video> element to read frames');
  }
  if (!(secondsPerHash > 0)) throw new RangeError('secondsPerHash must be a positive number of seconds');
  // Reading the file and grabbing frames go on together; progress is their weighted sum.
  const shares = { reading: 0, frames: 0 };
  const track = ({ stage, fraction }) => {
    shares[stage] = fraction;
    report(onProgress, stage, 0.3 * shares.reading + 0.7 * shares.frames);
  };
  const helper = await startHelper();
  const url = URL.createObjectURL(blob);
  const video = document.createElement('video');
  try {
    const [digests, vpdq] = await Promise.all([
      helper.run({ kind: 'digest', blob }, track),
      hashFrames(video, url, secondsPerHash, helper, track),
    ]);
    return { ...digests, vpdq };
  } finally {
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
    helper.close();
  }
}

/** MD5 and SHA-256 of a file, read in pieces of READ_CHUNK_BYTES. */
export async function digestBlob(blob, { onProgress } = {}) {
  checkBlob(blob);
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) {
    throw new Error('SHA-256 needs a secure page: open this page over https (or on localhost)');
  }
  // WebCrypto has no streaming digest, so the pieces are also gathered for SHA-256; MD5 is fed as
  // they arrive. Memory use is the size of the file, once.
  const whole = allocate(blob.size);
  const md5 = new Md5();
  for (let offset = 0; offset < blob.size; offset += READ_CHUNK_BYTES) {
    const piece = new Uint8Array(await blob.slice(offset, offset + READ_CHUNK_BYTES).arrayBuffer());
    md5.update(piece);
    whole.set(piece, offset);
    report(onProgress, 'reading', Math.min(1, (offset + piece.length) / blob.size));
  }
  const sha256 = toHex(new Uint8Array(await subtle.digest('SHA-256', whole)));
  return { md5: md5.hex(), sha256 };
}

/**
 * PDQ of decoded pixels: 4 bytes per pixel (canvas RGBA, alpha ignored) or 3 (RGB), rows top down.
 * Returns {pdq, quality, pdq_dihedral}, and with `{views: true}` also `pdq_variants`, the bank views
 * (robust.js) computed on the same luma.
 */
export function pdqOfPixels(pixels, width, height, channels = 4, { views = false } = {}) {
  const luma = lumaFromPixels(pixels, width, height, channels);
  const variants = views ? { pdq_variants: bankVariants(luma, width, height) } : {};
  return { ...pdqFromLuma(luma, width, height), ...variants };
}

/** hashImage's work, done in the calling thread (the worker runs this; so does the fallback). */
export async function hashImageInThisThread(blob, { onProgress, maxPixels = MAX_DECODE_PIXELS } = {}) {
  const progress = splitProgress(onProgress);
  const digests = await digestBlob(blob, { onProgress: progress.part(0, 0.4) });
  report(onProgress, 'decoding', 0.4);
  const { pixels, width, height } = await decodeImage(blob, maxPixels);
  report(onProgress, 'hashing', 0.6);
  const { pdq, quality, pdq_dihedral, pdq_variants } = pdqOfPixels(pixels, width, height, 4, { views: true });
  report(onProgress, 'hashing', 1);
  return { pdq, quality, pdq_dihedral, pdq_variants, ...digests };
}

// Decode with the browser's own decoder, EXIF orientation applied, colours as stored (no ICC
// conversion, as Pillow does not convert either). PNGs with an alpha channel are decoded by png.js,
// because browsers lose the colour of translucent pixels, which PDQ (ignoring alpha) hashes.
async function decodeImage(blob, maxPixels) {
  const png = alphaPngHeader(new Uint8Array(await blob.slice(0, 33).arrayBuffer()));
  if (png && png.width * png.height <= maxPixels) {
    const decoded = await decodeAlphaPng(blob, png);
    if (decoded) return decoded;
  }
  if (typeof createImageBitmap !== 'function') {
    throw new Error('this browser cannot decode pictures here; use `stanch hash` on a computer instead');
  }
  const options = { imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' };
  let bitmap = await createImageBitmap(blob, options).catch((error) => {
    throw new Error(`this file could not be opened as a picture by this browser (${error.message}); ` +
      'choose a JPEG, PNG, WebP, GIF or AVIF file, or use `stanch hash` on a computer');
  });
  if (bitmap.width * bitmap.height > maxPixels) {
    const scale = Math.sqrt(maxPixels / (bitmap.width * bitmap.height));
    const resizeWidth = Math.max(1, Math.floor(bitmap.width * scale));
    const resizeHeight = Math.max(1, Math.floor(bitmap.height * scale));
    bitmap.close();
    bitmap = await createImageBitmap(blob, { ...options, resizeWidth, resizeHeight, resizeQuality: 'high' });
  }
  try {
    const { width, height } = bitmap;
    const context = makeCanvas(width, height).getContext('2d', { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    return { pixels: context.getImageData(0, 0, width, height).data, width, height };
  } finally {
    bitmap.close();
  }
}

// Seek the video to each sample time, draw the frame, and hash it in the helper.
async function hashFrames(video, url, secondsPerHash, helper, onProgress) {
  video.muted = true;
  video.playsInline = true;
  video.preload = 'auto';
  const loaded = waitFor(video, 'loadeddata');
  video.src = url;
  await loaded;
  const { duration, videoWidth: width, videoHeight: height } = video;
  if (!Number.isFinite(duration) || width === 0 || height === 0) {
    throw new Error('this video does not say how long or how large it is; use `stanch hash` on a computer');
  }
  const context = makeCanvas(width, height).getContext('2d', { willReadFrequently: true });
  const count = Math.max(1, Math.ceil(duration / secondsPerHash));
  const frames = [];
  try {
    for (let i = 0; i < count; i++) {
      const ts = Math.round(i * secondsPerHash * 1000) / 1000;
      await seek(video, ts);
      context.drawImage(video, 0, 0, width, height);
      const pixels = context.getImageData(0, 0, width, height).data;
      const hashed = helper.run({ kind: 'frame', pixels, width, height });
      frames.push(hashed.then(({ pdq, quality }) => ({ pdq, quality, ts })));
      report(onProgress, 'frames', (i + 1) / count);
    }
  } catch (error) {
    for (const frame of frames) frame.catch(() => {}); // the first error is the one to report
    throw error;
  }
  return Promise.all(frames);
}

// Seek and wait until the new frame is shown. 'seeked' alone is not enough: under load Chromium fired
// it before the frame was ready and the previous frame was drawn (measured: 1 run in 4). So also wait
// for requestVideoFrameCallback, where the browser has it, for at most a second.
async function seek(video, ts) {
  const shown = typeof video.requestVideoFrameCallback === 'function'
    ? new Promise((resolve) => video.requestVideoFrameCallback(resolve))
    : null;
  const seeked = waitFor(video, 'seeked');
  video.currentTime = ts;
  await seeked;
  if (shown) await Promise.race([shown, new Promise((resolve) => setTimeout(resolve, 1000))]);
}

// Resolve on `event`; reject with a clear message when the element reports an error instead, or when
// nothing happens for VIDEO_STALL_MS (a file the browser neither plays nor refuses).
function waitFor(video, event) {
  return new Promise((resolve, reject) => {
    const finish = (outcome) => {
      clearTimeout(timer);
      video.removeEventListener(event, done);
      video.removeEventListener('error', failed);
      outcome();
    };
    const done = () => finish(resolve);
    const failed = () => {
      const detail = video.error ? ` (${video.error.message || `code ${video.error.code}`})` : '';
      finish(() => reject(new Error(`this browser cannot play this video${detail}; try an MP4 or WebM ` +
        'file, or use `stanch hash` on a computer')));
    };
    const timer = setTimeout(() => finish(() => reject(new Error('this video stopped loading in this ' +
      'browser; try again, or use `stanch hash` on a computer'))), VIDEO_STALL_MS);
    video.addEventListener(event, done);
    video.addEventListener('error', failed);
  });
}

// A helper runs tasks in a module worker when the browser has one that can decode (OffscreenCanvas),
// otherwise in this thread. Both have the same `run(task, onProgress)` and `close()`.
async function startHelper() {
  if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined') return inThisThread();
  let worker;
  try {
    worker = new Worker(new URL('./stanch-hash-worker.js', import.meta.url), { type: 'module' });
  } catch {
    return inThisThread();
  }
  return (await workerIsReady(worker)) ? workerHelper(worker) : inThisThread();
}

// The worker says 'ready' once its modules have loaded; a page whose rules forbid workers gets an
// error event instead, and the work is then done in this thread.
function workerIsReady(worker) {
  return new Promise((resolve) => {
    worker.addEventListener('message', () => resolve(true), { once: true });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      worker.terminate();
      resolve(false);
    }, { once: true });
  });
}

function workerHelper(worker) {
  const pending = new Map();
  let nextId = 0;
  worker.addEventListener('message', ({ data }) => {
    const job = pending.get(data.id);
    if (!job) return;
    if (data.progress) {
      if (job.onProgress) job.onProgress(data.progress);
      return;
    }
    pending.delete(data.id);
    if (data.error) job.reject(new Error(data.error));
    else job.resolve(data.result);
  });
  return {
    run(task, onProgress) {
      const id = nextId++;
      const transfer = task.pixels ? [task.pixels.buffer] : [];
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, onProgress });
        worker.postMessage({ id, task }, transfer);
      });
    },
    close() {
      worker.terminate();
      for (const job of pending.values()) job.reject(new Error('hashing was stopped'));
      pending.clear();
    },
  };
}

function inThisThread() {
  return { run: (task, onProgress) => runTask(task, onProgress), close() {} };
}

/** One task as the worker receives it; also used in this thread when there is no worker. */
export async function runTask(task, onProgress) {
  switch (task.kind) {
    case 'image':
      return hashImageInThisThread(task.blob, { onProgress, maxPixels: task.maxPixels });
    case 'digest':
      return digestBlob(task.blob, { onProgress });
    case 'frame':
      return pdqOfPixels(task.pixels, task.width, task.height);
    default:
      throw new Error(`unknown hashing task ${task.kind}`);
  }
}

function makeCanvas(width, height) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

// Map a sub-task's 0..1 progress onto a slice [from, to] of the caller's progress.
function splitProgress(onProgress) {
  return {
    part: (from, to) => (onProgress ? ({ stage, fraction }) => report(onProgress, stage, from + (to - from) * fraction) : undefined),
  };
}

function report(onProgress, stage, fraction) {
  if (onProgress) onProgress({ stage, fraction });
}

// The buffer for a whole file, or an Error a person can act on when the device lacks the memory.
function allocate(size) {
  try {
    return new Uint8Array(size);
  } catch {
    const megabytes = Math.ceil(size / 1024 / 1024);
    throw new Error(`this file (${megabytes} MB) is too large to hash in this browser; ` +
      'use `stanch hash` on a computer instead');
  }
}

function checkBlob(blob) {
  if (!(blob instanceof Blob)) throw new TypeError('expected a File or Blob (for example from an <input type="file">)');
}

function toHex(bytes) {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
