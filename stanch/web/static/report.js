// The /report page: hash the person's own files on this device and put only the hashes in the form.
// The file input has no name, so the browser never sends the files; thumbnails are object URLs that
// exist only in this page.
import { hashImage, hashVideo } from './stanch-hash.js';

const form = document.getElementById('report-form');
const input = document.getElementById('files');
const drop = document.getElementById('drop-zone');
const list = document.getElementById('file-list');
const hidden = document.getElementById('hashes');
const status = document.getElementById('files-status');

const records = new Map(); // list item -> hash record, for the files hashed so far
let pending = 0;
let earlier = [];
try { earlier = hidden.value ? JSON.parse(hidden.value) : []; } catch { earlier = []; }
if (earlier.length) status.textContent = `${earlier.length} file(s) you added before are still included.`;

function save() {
  hidden.value = JSON.stringify([...earlier, ...records.values()]);
}

function say(text) { status.textContent = text; }

function thumbnail(file, url) {
  if (file.type.startsWith('video/')) {
    const video = document.createElement('video');
    video.muted = true; video.preload = 'metadata'; video.src = url;
    video.setAttribute('aria-hidden', 'true');
    return video;
  }
  const img = document.createElement('img');
  img.src = url; img.alt = `Preview of ${file.name}, shown only on this device`;
  return img;
}

function videoDuration(url) {
  return new Promise((resolve) => {
    const probe = document.createElement('video');
    probe.preload = 'metadata';
    probe.onloadedmetadata = () => resolve(Number.isFinite(probe.duration) ? probe.duration : 0);
    probe.onerror = () => resolve(0);
    probe.src = url;
  });
}

async function fingerprint(file, url, onProgress) {
  if (file.type.startsWith('video/')) {
    const [result, duration] = await Promise.all([hashVideo(file, { onProgress }), videoDuration(url)]);
    return { kind: 'video', md5: result.md5, sha256: result.sha256, vpdq: result.vpdq, duration };
  }
  const result = await hashImage(file, { onProgress });
  // The bank views go too: the picture is banked when the request is decided, and without them the bank
  // misses cropped, captioned and mirrored copies of it.
  return { kind: 'image', md5: result.md5, sha256: result.sha256, pdq: result.pdq, quality: result.quality,
           pdq_dihedral: result.pdq_dihedral, pdq_variants: result.pdq_variants };
}

async function add(file) {
  const url = URL.createObjectURL(file);
  const item = document.createElement('li');
  const text = document.createElement('div');
  text.className = 'file-status';
  const label = document.createElement('span');
  label.textContent = file.name;
  const bar = document.createElement('progress');
  bar.max = 1; bar.value = 0;
  bar.setAttribute('aria-label', `Working out the fingerprint of ${file.name}`);
  const note = document.createElement('span');
  note.textContent = ' Working out the fingerprint on this device…';
  const remove = document.createElement('button');
  remove.type = 'button'; remove.className = 'secondary'; remove.textContent = 'Remove';
  remove.setAttribute('aria-label', `Remove ${file.name}`);
  remove.addEventListener('click', () => {
    records.delete(item); item.remove(); URL.revokeObjectURL(url); save();
    say(`${file.name} removed.`); input.focus();
  });
  text.append(label, note, bar);
  item.append(thumbnail(file, url), text, remove);
  list.append(item);
  pending += 1;
  say(`Working out fingerprints on this device: ${pending} file(s) left.`);
  try {
    const record = await fingerprint(file, url, ({ fraction }) => { bar.value = fraction; });
    records.set(item, record);
    save();
    bar.value = 1;
    note.textContent = ' Ready. Only its fingerprint will be sent.';
  } catch (error) {
    note.textContent = ` This file could not be used: ${error.message} You can still send the request with the web address alone.`;
    bar.remove();
  } finally {
    pending -= 1;
    say(pending ? `Working out fingerprints on this device: ${pending} file(s) left.`
                : `${records.size + earlier.length} file(s) ready. Only their fingerprints will be sent.`);
  }
}

function addAll(files) {
  for (const file of files) add(file);
  input.value = '';
}

input.addEventListener('change', () => addAll([...input.files]));
for (const name of ['dragenter', 'dragover']) {
  drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add('over'); });
}
for (const name of ['dragleave', 'drop']) {
  drop.addEventListener(name, () => drop.classList.remove('over'));
}
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  if (event.dataTransfer && event.dataTransfer.files.length) addAll([...event.dataTransfer.files]);
});
// A file dropped next to the zone must not make the browser open it (and leave the form).
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());

form.addEventListener('submit', (event) => {
  if (pending) {
    event.preventDefault();
    say('Please wait: fingerprints are still being worked out. The form will be ready in a moment.');
    status.focus();
    return;
  }
  input.value = '';
  save();
});

// After a refused submission, move focus to the summary so screen readers announce it first.
const problems = document.getElementById('form-problems');
if (problems) problems.focus();
