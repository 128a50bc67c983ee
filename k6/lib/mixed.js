// The mixed workload of MaxIOFS's mixed_workload.js: download 50 / upload 30 / list 15 /
// delete 5; upload sizes 1 KB 40 %, 10 KB 30 %, 50 KB 20 %, 100 KB 7 %, 512 KB 2 %, 1 MB 1 %;
// downloads of 10 KB seeds; think times 0.5 / 0.2 / 0.3 / 0.1 s in paced mode.
import { KB, MiB, setupBucket, think, weighted, client } from './common.js';
import { deleteObject, getMaybe, listObjects, putObject } from './ops.js';

const SIZES = [
  [40, 1 * KB],
  [30, 10 * KB],
  [20, 50 * KB],
  [7, 100 * KB],
  [2, 512 * KB],
  [1, 1 * MiB],
];
const SEEDS = 20;

export const MIXED_OPS = ['put', 'get', 'list', 'delete'];

export function mixedSetup() {
  setupBucket();
  const s3 = client();
  for (let index = 0; index < SEEDS; index++) {
    if (!putObject(s3, `mixed/seed/${index}`, 10 * KB)) throw new Error('seeding failed');
  }
}

export function mixedIteration(s3) {
  const op = weighted([
    [50, 'get'],
    [30, 'put'],
    [15, 'list'],
    [5, 'delete'],
  ]);
  if (op === 'get') {
    getMaybe(s3, `mixed/seed/${Math.floor(Math.random() * SEEDS)}`);
    think(0.2);
  } else if (op === 'put') {
    putObject(s3, `mixed/${__VU}/${__ITER % 100}`, weighted(SIZES));
    think(0.5);
  } else if (op === 'list') {
    listObjects(s3, 'mixed/');
    think(0.3);
  } else {
    // Deletes this VU's own uploads (present or not), never the seeds.
    deleteObject(s3, `mixed/${__VU}/${Math.floor(Math.random() * 100)}`);
    think(0.1);
  }
}

export { client };
