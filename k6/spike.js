// Spike: the mixed workload at 25 VUs, a jump to 100 and back (MaxIOFS's spike(25, 100)).
import { summaryTrendStats, shapes, sloThresholds } from './lib/common.js';
import { MIXED_OPS, client, mixedIteration, mixedSetup } from './lib/mixed.js';

export const options = {
  summaryTrendStats,
  scenarios: { spike: shapes.spike(25, 100) },
  thresholds: sloThresholds(MIXED_OPS),
};

export function setup() {
  mixedSetup();
}

const s3 = client();

export default function () {
  mixedIteration(s3);
}
