// Test harness for tests/web/test_hash_js_node.py: runs Stanch's in-browser hashing code under Node.
//
// Reads a JSON list of jobs on stdin and prints one JSON line per job, in order. Two kinds of job:
//   {"id", "pixels", "width", "height", "channels", "views"?}: a file of raw pixels (rows top down) ->
//       {"id", "pdq", "quality", "pdq_dihedral"} from pdqOfPixels, and "pdq_variants" (the bank views
//       of robust.js) when "views" is true;
//   {"id", "file", "piece"}: any file -> {"id", "md5", "sha256"} from digestBlob, and "md5_pieces"
//       from feeding Md5 the file in pieces of `piece` bytes (to test the incremental state);
//   {"id", "png"}: a PNG file -> {"id", "width", "height", "rgba_md5"} from png.js (MD5 of the RGBA
//       pixels), or {"id", "accepted": false} when png.js leaves the file to the browser.
// One process serves every job, to keep the tests fast.
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Md5 } from '../../stanch/web/static/md5.js';
import { alphaPngHeader, decodeAlphaPng } from '../../stanch/web/static/png.js';
import { digestBlob, pdqOfPixels } from '../../stanch/web/static/stanch-hash.js';

globalThis.crypto ??= webcrypto; // a global from Node 19 on; Debian 12's nodejs is 18

async function run(job) {
  if (job.png) {
    const blob = new Blob([readFileSync(job.png)]);
    const header = alphaPngHeader(new Uint8Array(await blob.slice(0, 33).arrayBuffer()));
    const decoded = header && (await decodeAlphaPng(blob, header));
    if (!decoded) return { accepted: false };
    const { pixels, width, height } = decoded;
    return { width, height, rgba_md5: new Md5().update(new Uint8Array(pixels.buffer)).hex() };
  }
  if (job.pixels) {
    const pixels = new Uint8Array(readFileSync(job.pixels));
    return pdqOfPixels(pixels, job.width, job.height, job.channels, { views: Boolean(job.views) });
  }
  const bytes = new Uint8Array(readFileSync(job.file));
  const md5 = new Md5();
  for (let offset = 0; offset < bytes.length; offset += job.piece) {
    md5.update(bytes.subarray(offset, offset + job.piece));
  }
  return { ...(await digestBlob(new Blob([bytes]))), md5_pieces: md5.hex() };
}

for (const job of JSON.parse(readFileSync(0, 'utf8'))) {
  process.stdout.write(JSON.stringify({ id: job.id, ...(await run(job)) }) + '\n');
}
