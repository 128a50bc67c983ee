// Mixed workload, 25 VUs sustained for 2 minutes (see lib/mixed.js for the operation mix).
//   k6 run -e S3_ENDPOINT=http://127.0.0.1:PORT -e MODE=saturation -e SCALE=0.25 k6/mixed.js
import { summaryTrendStats, shapes, sloThresholds } from './lib/common.js';
import { MIXED_OPS, client, mixedIteration, mixedSetup } from './lib/mixed.js';

export const options = {
  summaryTrendStats,
  scenarios: { mixed: shapes.sustained(25, 120) },
  thresholds: sloThresholds(MIXED_OPS),
};

export function setup() {
  mixedSetup();
}

const s3 = client();

export default function () {
  mixedIteration(s3);
}
