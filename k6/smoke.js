// CI smoke: 10 seconds of the mixed workload at 4 VUs with the SLO thresholds; k6 exits
// non-zero when one fails. k6/smoke.sh runs it with MODE=saturation (no think time).
import { summaryTrendStats, shapes, sloThresholds } from './lib/common.js';
import { MIXED_OPS, client, mixedIteration, mixedSetup } from './lib/mixed.js';

export const options = {
  summaryTrendStats,
  scenarios: { smoke: shapes.sustained(4, 10) },
  thresholds: sloThresholds(MIXED_OPS),
};

export function setup() {
  mixedSetup();
}

const s3 = client();

export default function () {
  mixedIteration(s3);
}
