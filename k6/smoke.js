// CI smoke: 10 seconds of the mixed workload at 8 VUs with the SLO thresholds (availability
// and 5xx as in the SLO, latency at the edge of its critical band); k6 exits non-zero when one
// fails. k6/smoke.sh runs it paced (think time): the SLOs are latency at a
// sustainable rate, while a saturating run on a shared 2-core machine measures its queues.
import { summaryTrendStats, shapes, sloThresholds } from './lib/common.js';
import { MIXED_OPS, client, mixedIteration, mixedSetup } from './lib/mixed.js';

export const options = {
  summaryTrendStats,
  scenarios: { smoke: shapes.sustained(8, 10) },
  thresholds: sloThresholds(MIXED_OPS, true),
};

export function setup() {
  mixedSetup();
}

const s3 = client();

export default function () {
  mixedIteration(s3);
}
