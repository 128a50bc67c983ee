// Checked S3 operations for the scenarios: each counts toward the `checks` rate (availability)
// and `server_errors` (5xx), and tags its request with `op` for the per-operation thresholds.
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { body, config } from './common.js';

export const serverErrors = new Rate('server_errors');
export const bytesUploaded = new Counter('bytes_uploaded');
export const bytesDownloaded = new Counter('bytes_downloaded');

function record(res, name, ok) {
  serverErrors.add(res.status >= 500);
  return check(res, { [name]: () => ok });
}

export function putObject(s3, key, size) {
  const res = s3.put(config.bucket, key, body(size));
  if (record(res, 'put 200', res.status === 200)) bytesUploaded.add(size);
  return res.status === 200;
}

export function getObject(s3, key, size) {
  const res = s3.get(config.bucket, key);
  // responseType none: the body is drained, not kept; its size comes from the header.
  const ok = res.status === 200 && Number(res.headers['Content-Length']) === size;
  if (record(res, 'get 200, full size', ok)) bytesDownloaded.add(size);
  return ok;
}

// A key another VU deleted is not an error: 404 is an accepted answer for mixes with DELETE.
export function getMaybe(s3, key) {
  const res = s3.get(config.bucket, key);
  record(res, 'get 200 or 404', res.status === 200 || res.status === 404);
}

export function headObject(s3, key) {
  const res = s3.head(config.bucket, key);
  return record(res, 'head 200 or 404', res.status === 200 || res.status === 404);
}

export function deleteObject(s3, key) {
  const res = s3.del(config.bucket, key);
  return record(res, 'delete 204', res.status === 204);
}

export function listObjects(s3, prefix) {
  const res = s3.list(config.bucket, prefix, 100);
  return record(res, 'list 200', res.status === 200 && res.body.includes('<ListBucketResult'));
}
