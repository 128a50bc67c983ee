// SigV4 (header form) for S3 in plain k6 JavaScript, on k6/crypto only: k6's AWS jslib is
// fetched from the network at run time, which these runs must not depend on.
//
// Signs host;x-amz-content-sha256;x-amz-date. The payload is UNSIGNED-PAYLOAD unless
// signPayload is set (then the body's SHA-256 is computed in JS: ~3 ms per MiB of client CPU).
import crypto from 'k6/crypto';
import http from 'k6/http';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, the rest %XX uppercase.
export function uriEncode(text, keepSlash) {
  let out = encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
  if (keepSlash) out = out.replace(/%2F/g, '/');
  return out;
}

// yyyymmddThhmmssZ
export function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export class S3Client {
  constructor({ endpoint, accessKey, secretKey, region, signPayload }) {
    if (!/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(endpoint)) {
      // The k6 binary comes from a wheel repackaged by an unknown author: loopback only.
      throw new Error(`S3_ENDPOINT must be http://127.0.0.1:PORT, got ${endpoint}`);
    }
    this.endpoint = endpoint.replace(/\/$/, '');
    this.host = this.endpoint.replace(/^http:\/\//, '');
    this.accessKey = accessKey;
    this.secretKey = secretKey;
    this.region = region || 'us-east-1';
    this.signPayload = !!signPayload;
    this.keyDay = null;
    this.signingKey = null;
  }

  key(day) {
    if (this.keyDay !== day) {
      let k = crypto.hmac('sha256', 'AWS4' + this.secretKey, day, 'binary');
      for (const part of [this.region, 's3', 'aws4_request']) {
        k = crypto.hmac('sha256', k, part, 'binary');
      }
      this.keyDay = day;
      this.signingKey = k;
    }
    return this.signingKey;
  }

  // query: object of name -> value ('' for a bare name); returned as [canonical, wire].
  static query(query) {
    const pairs = Object.keys(query || {})
      .map((name) => [uriEncode(name, false), uriEncode(String(query[name]), false)])
      .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
    return pairs.map(([name, value]) => `${name}=${value}`).join('&');
  }

  // One signed request. params: { tags, responseType, headers }.
  request(method, bucket, key, query, body, params) {
    const path = '/' + bucket + (key ? '/' + uriEncode(key, true) : '');
    const canonicalQuery = S3Client.query(query);
    const now = amzDate(new Date());
    const payloadHash = !this.signPayload
      ? 'UNSIGNED-PAYLOAD'
      : body
        ? crypto.sha256(body, 'hex')
        : EMPTY_SHA256;
    const canonical = [
      method,
      path,
      canonicalQuery,
      `host:${this.host}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:${now}\n`,
      'host;x-amz-content-sha256;x-amz-date',
      payloadHash,
    ].join('\n');
    const day = now.slice(0, 8);
    const scope = `${day}/${this.region}/s3/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', now, scope, crypto.sha256(canonical, 'hex')].join(
      '\n',
    );
    const signature = crypto.hmac('sha256', this.key(day), stringToSign, 'hex');
    const headers = Object.assign({}, (params && params.headers) || {}, {
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': now,
      Authorization:
        `AWS4-HMAC-SHA256 Credential=${this.accessKey}/${scope},` +
        `SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=${signature}`,
    });
    const url = this.endpoint + path + (canonicalQuery ? '?' + canonicalQuery : '');
    return http.request(method, url, body === undefined ? null : body, {
      headers,
      tags: (params && params.tags) || {},
      responseType: (params && params.responseType) || 'none',
    });
  }

  createBucket(bucket) {
    const res = this.request('PUT', bucket, '', null, null, { responseType: 'text' });
    // An existing bucket is fine (s3s-fs answers BucketAlreadyExists even to its owner).
    const body = res.body || '';
    const exists = body.includes('BucketAlreadyOwnedByYou') || body.includes('BucketAlreadyExists');
    if (res.status !== 200 && !exists) {
      throw new Error(`create bucket ${bucket}: HTTP ${res.status} ${res.body}`);
    }
  }

  put(bucket, key, body) {
    return this.request('PUT', bucket, key, null, body, { tags: { op: 'put' } });
  }

  get(bucket, key) {
    return this.request('GET', bucket, key, null, null, { tags: { op: 'get' } });
  }

  head(bucket, key) {
    return this.request('HEAD', bucket, key, null, null, { tags: { op: 'head' } });
  }

  del(bucket, key) {
    return this.request('DELETE', bucket, key, null, null, { tags: { op: 'delete' } });
  }

  // One ListObjectsV2 page.
  list(bucket, prefix, maxKeys) {
    return this.request(
      'GET',
      bucket,
      '',
      { 'list-type': '2', prefix: prefix || '', 'max-keys': String(maxKeys || 1000) },
      null,
      { tags: { op: 'list' }, responseType: 'text' },
    );
  }
}
