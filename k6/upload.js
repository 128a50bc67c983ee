// Uploads: sizes 1 KB 50 %, 10 KB 30 %, 100 KB 15 %, 1 MB 4 %, 5 MB 1 %; about 10 % of the
// small objects deleted again (MaxIOFS's upload_test.js). rampUp to 50 VUs over 2 minutes.
//   k6 run -e S3_ENDPOINT=http://127.0.0.1:PORT -e MODE=saturation k6/upload.js
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
import { deleteObject, putObject } from './lib/ops.js';

export const options = {
  summaryTrendStats,
  scenarios: { upload: shapes.rampUp(50, 120) },
  thresholds: sloThresholds(['put', 'delete']),
};

const SIZES = [
  [50, 1 * KB],
  [30, 10 * KB],
  [15, 100 * KB],
  [4, 1 * MiB],
  [1, 5 * MiB],
];

export function setup() {
  setupBucket();
}

const s3 = client();

export default function () {
  const size = weighted(SIZES);
  const key = `upload/${__VU}/${__ITER}`;
  if (putObject(s3, key, size) && size <= 10 * KB && Math.random() < 0.1) {
    deleteObject(s3, key);
  }
  think(0.1 + Math.random() * 0.4);
}
