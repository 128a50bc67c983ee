// Downloads: ten seeded objects of 1, 2, 4, 10, 50, 100, 500 KB, 1, 2, 5 MB, chosen 50 / 30 / 20
// by size class (small, medium, large), 100 VUs for 3 minutes (MaxIOFS's download_test.js).
import {
  KB,
  MiB,
  client,
  setupBucket,
  shapes,
  sloThresholds,
  summaryTrendStats,
  think,
  weighted,
} from './lib/common.js';
import { getObject, putObject } from './lib/ops.js';

export const options = {
  summaryTrendStats,
  scenarios: { download: shapes.sustained(100, 180) },
  thresholds: sloThresholds(['get']),
};

const SMALL = [1 * KB, 2 * KB, 4 * KB, 10 * KB];
const MEDIUM = [50 * KB, 100 * KB, 500 * KB];
const LARGE = [1 * MiB, 2 * MiB, 5 * MiB];

export function setup() {
  setupBucket();
  const s3 = client();
  for (const size of [...SMALL, ...MEDIUM, ...LARGE]) {
    if (!putObject(s3, `seed/${size}`, size)) throw new Error(`seeding ${size} failed`);
  }
}

const s3 = client();

export default function () {
  const sizes = weighted([
    [50, SMALL],
    [30, MEDIUM],
    [20, LARGE],
  ]);
  const size = sizes[Math.floor(Math.random() * sizes.length)];
  getObject(s3, `seed/${size}`, size);
  think(0.1 + Math.random() * 0.2);
}
