// Module Web Worker for stanch-hash.js: decodes and hashes off the page's thread so it stays responsive.
//
// Messages in: {id, task} (see runTask in stanch-hash.js). Messages out: {ready: true} once loaded,
// then for each task any number of {id, progress: {stage, fraction}} and one {id, result} or {id, error}.
import { runTask } from './stanch-hash.js';

self.addEventListener('message', async ({ data: { id, task } }) => {
  try {
    const result = await runTask(task, (progress) => self.postMessage({ id, progress }));
    self.postMessage({ id, result });
  } catch (error) {
    self.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});

self.postMessage({ ready: true });
