// Stress: the mixed workload stepped through 10, 50, 100, 200 and 300 VUs, 2 minutes each.
import { summaryTrendStats, shapes, sloThresholds } from './lib/common.js';
import { MIXED_OPS, client, mixedIteration, mixedSetup } from './lib/mixed.js';

export const options = {
  summaryTrendStats,
  scenarios: { stress: shapes.stress(300) },
  thresholds: sloThresholds(MIXED_OPS),
};

export function setup() {
  mixedSetup();
}

const s3 = client();

export default function () {
  mixedIteration(s3);
}
