import { AwsClient } from "aws4fetch";

// Object storage for backups behind one small interface: the Worker's R2 bucket (the `BACKUPS`
// binding) and any S3-compatible store, signed with SigV4 by aws4fetch. Large artifacts go up in
// multipart uploads of fixed-size parts (R2 wants every part but the last the same size; S3 wants
// at least 5 MiB), so the pipeline holds one part in memory at a time.

/** S3's smallest part but the last, and what every part but the last is here. */
export const PART_BYTES = 5 * 1024 * 1024;

export class StoreError extends Error {
  override name = "StoreError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface StoredObject {
  key: string;
  size: number;
}

export interface MultipartUpload {
  /** The store's id of the upload: what abortMultipart needs to end it from elsewhere. */
  readonly uploadId: string;
  uploadPart(partNumber: number, data: Uint8Array): Promise<void>;
  complete(): Promise<void>;
  abort(): Promise<void>;
}

export interface ObjectStore {
  /** For messages: `R2 bucket pier-backups`, `s3://bucket at https://…`. */
  readonly description: string;
  put(key: string, data: Uint8Array | string, contentType?: string): Promise<void>;
  /** The object's bytes as a stream, or null when there is no such object. */
  get(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null>;
  delete(key: string): Promise<void>;
  list(prefix: string, cursor?: string): Promise<{ objects: StoredObject[]; cursor?: string }>;
  createMultipart(key: string, contentType?: string): Promise<MultipartUpload>;
  /**
   * Ends an upload that whoever started it can no longer finish (its runner restarted), so its
   * parts stop taking space; an upload the store no longer knows counts as ended.
   */
  abortMultipart(key: string, uploadId: string): Promise<void>;
}

// ---- R2 ---------------------------------------------------------------------------------------

export function r2Store(bucket: R2Bucket): ObjectStore {
  const wrap = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw new StoreError(`R2 (the BACKUPS binding) failed to ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  return {
    description: "the Worker's R2 bucket (binding BACKUPS)",
    put: (key, data, contentType) =>
      wrap(`write ${key}`, async () => void (await bucket.put(key, data, { httpMetadata: { contentType } }))),
    get: (key) =>
      wrap(`read ${key}`, async () => {
        const object = await bucket.get(key);
        return object ? { body: object.body, size: object.size } : null;
      }),
    delete: (key) => wrap(`delete ${key}`, () => bucket.delete(key)),
    list: (prefix, cursor) =>
      wrap(`list ${prefix}`, async () => {
        const listed = await bucket.list({ prefix, cursor, limit: 1000 });
        return {
          objects: listed.objects.map((o) => ({ key: o.key, size: o.size })),
          cursor: listed.truncated ? listed.cursor : undefined,
        };
      }),
    createMultipart: (key, contentType) =>
      wrap(`start a multipart upload of ${key}`, async () => {
        const upload = await bucket.createMultipartUpload(key, { httpMetadata: { contentType } });
        const parts: R2UploadedPart[] = [];
        return {
          uploadId: upload.uploadId,
          uploadPart: (n, data) => wrap(`upload part ${n} of ${key}`, async () => void parts.push(await upload.uploadPart(n, data))),
          complete: () =>
            wrap(`complete the upload of ${key}`, async () => {
              parts.sort((a, b) => a.partNumber - b.partNumber);
              await upload.complete(parts);
            }),
          abort: () => wrap(`abort the upload of ${key}`, () => upload.abort()),
        };
      }),
    abortMultipart: (key, uploadId) =>
      wrap(`abort the upload ${uploadId} of ${key}`, async () => {
        try {
          await bucket.resumeMultipartUpload(key, uploadId).abort();
        } catch (error) {
          // R2's "NoSuchUpload" (10024): completed, aborted or expired already.
          if (!/NoSuchUpload|does not exist|10024/i.test(error instanceof Error ? error.message : String(error))) throw error;
        }
      }),
  };
}

// ---- S3-compatible ------------------------------------------------------------------------------

export interface S3Config {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

/** `AccessDenied: Access Denied.` out of an S3 error document; the status line when there is none. */
async function s3Failure(what: string, response: Response): Promise<StoreError> {
  const text = await response.text().catch(() => "");
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  const said = code || message ? [code, message].filter(Boolean).join(": ") : `HTTP ${response.status} ${response.statusText}`.trim();
  return new StoreError(`The store refused to ${what}: ${unescapeXml(said)}`, response.status);
}

const unescapeXml = (s: string) =>
  s.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll("&apos;", "'").replaceAll("&amp;", "&");

const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/** Methods whose repeat S3 defines to do no more than the first (an object or part PUT replaces itself). */
const REPLAYABLE_METHODS = new Set(["GET", "HEAD", "PUT", "DELETE"]);

export function s3Store(config: S3Config): ObjectStore {
  // aws4fetch retries 5xx answers ten times by default; the pipeline decides about retries itself.
  const client = new AwsClient({
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    service: "s3",
    region: config.region,
    retries: 0,
  });
  const base = new URL(config.endpoint);
  const bucketUrl = config.forcePathStyle
    ? `${base.origin}/${encodeURIComponent(config.bucket)}`
    : `${base.protocol}//${config.bucket}.${base.host}`;
  const objectUrl = (key: string) => `${bucketUrl}/${encodeKey(key)}`;
  const call = async (what: string, url: string, init: RequestInit, options: { replayable?: boolean } = {}): Promise<Response> => {
    // A kept-alive connection the store closed as it was reused fails before any answer ("Network
    // connection lost"): a request S3 defines as idempotent, with a body that can be sent again,
    // is tried once more on a new connection. Anything else is the caller's to decide.
    const replayable = (options.replayable ?? REPLAYABLE_METHODS.has(init.method ?? "GET")) && !(init.body instanceof ReadableStream);
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.fetch(url, init);
      } catch (error) {
        if (replayable && attempt === 1) continue;
        throw new StoreError(
          `Could not reach the store at ${base.origin} to ${what}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  };
  const expectOk = async (what: string, response: Response): Promise<Response> => {
    if (!response.ok) throw await s3Failure(what, response);
    return response;
  };
  const store: ObjectStore = {
    description: `bucket ${config.bucket} at ${base.origin}`,
    async put(key, data, contentType) {
      const body = typeof data === "string" ? new TextEncoder().encode(data) : data;
      const response = await call(`write ${key}`, objectUrl(key), {
        method: "PUT",
        body,
        headers: contentType ? { "content-type": contentType } : {},
      });
      await expectOk(`write ${key}`, response);
      await response.body?.cancel();
    },
    async get(key) {
      const response = await call(`read ${key}`, objectUrl(key), { method: "GET" });
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      await expectOk(`read ${key}`, response);
      return { body: response.body!, size: Number(response.headers.get("content-length") ?? -1) };
    },
    async delete(key) {
      const response = await call(`delete ${key}`, objectUrl(key), { method: "DELETE" });
      if (response.status !== 404) await expectOk(`delete ${key}`, response);
      await response.body?.cancel();
    },
    async list(prefix, cursor) {
      const url = new URL(`${bucketUrl}/`);
      url.searchParams.set("list-type", "2");
      url.searchParams.set("prefix", prefix);
      if (cursor) url.searchParams.set("continuation-token", cursor);
      const text = await (await expectOk(`list ${prefix}`, await call(`list ${prefix}`, url.toString(), { method: "GET" }))).text();
      const objects: StoredObject[] = [];
      for (const match of text.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = /<Key>([^<]*)<\/Key>/.exec(match[1]!)?.[1];
        const size = /<Size>([^<]*)<\/Size>/.exec(match[1]!)?.[1];
        if (key !== undefined) objects.push({ key: unescapeXml(key), size: Number(size ?? 0) });
      }
      const truncated = /<IsTruncated>true<\/IsTruncated>/.test(text);
      const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(text)?.[1];
      return { objects, cursor: truncated && next ? unescapeXml(next) : undefined };
    },
    async createMultipart(key, contentType) {
      const started = await expectOk(
        `start a multipart upload of ${key}`,
        // Sent again after a lost connection too: at worst the first one did reach the store and
        // left an empty upload that is never completed (S3 SDKs retry it the same way).
        await call(
          `start a multipart upload of ${key}`,
          `${objectUrl(key)}?uploads`,
          { method: "POST", headers: contentType ? { "content-type": contentType } : {} },
          { replayable: true },
        ),
      );
      const uploadId = /<UploadId>([^<]*)<\/UploadId>/.exec(await started.text())?.[1];
      if (!uploadId) throw new StoreError(`The store started a multipart upload of ${key} without an UploadId.`);
      const id = encodeURIComponent(unescapeXml(uploadId));
      const etags = new Map<number, string>();
      return {
        uploadId: unescapeXml(uploadId),
        async uploadPart(n, data) {
          const what = `upload part ${n} of ${key}`;
          const response = await expectOk(
            what,
            await call(what, `${objectUrl(key)}?partNumber=${n}&uploadId=${id}`, { method: "PUT", body: data }),
          );
          await response.body?.cancel();
          const etag = response.headers.get("etag");
          if (!etag) throw new StoreError(`The store took part ${n} of ${key} without an ETag.`);
          etags.set(n, etag);
        },
        async complete() {
          const parts = [...etags.entries()]
            .sort(([a], [b]) => a - b)
            .map(
              ([n, etag]) =>
                `<Part><PartNumber>${n}</PartNumber><ETag>${etag.replaceAll("&", "&amp;").replaceAll('"', "&quot;")}</ETag></Part>`,
            )
            .join("");
          const what = `complete the upload of ${key}`;
          const response = await expectOk(
            what,
            await call(what, `${objectUrl(key)}?uploadId=${id}`, {
              method: "POST",
              body: `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`,
              headers: { "content-type": "application/xml" },
            }),
          );
          // S3 can answer 200 and still fail the completion in the body.
          const text = await response.text();
          if (/<Error>/.test(text))
            throw new StoreError(`The store failed to ${what}: ${/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200)}`);
        },
        abort: () => store.abortMultipart(key, unescapeXml(uploadId)),
      };
    },
    async abortMultipart(key, uploadId) {
      const what = `abort the upload ${uploadId} of ${key}`;
      const response = await call(what, `${objectUrl(key)}?uploadId=${encodeURIComponent(uploadId)}`, { method: "DELETE" });
      // 404 NoSuchUpload: it ended already.
      if (response.status !== 404) await expectOk(what, response);
      await response.body?.cancel();
    },
  };
  return store;
}

// ---- the pipeline's last step ---------------------------------------------------------------------

export interface UploadHooks {
  /** Told when a part failed and is tried once more. */
  onRetry?: (partNumber: number, error: unknown) => void;
  /**
   * Told when a multipart upload starts (its id) and when it is over, completed or aborted
   * (null): between the two, whoever keeps the id can abort it if this process dies.
   */
  onMultipart?: (uploadId: string | null) => void | Promise<void>;
  signal?: AbortSignal;
}

/**
 * Writes a stream to `key`: one PUT when it fits in a part, else a multipart upload of PART_BYTES
 * parts (each tried twice at most). Any failure aborts the upload, so no partial object is left,
 * and is thrown.
 */
export async function uploadStream(
  store: ObjectStore,
  key: string,
  stream: ReadableStream<Uint8Array>,
  hooks: UploadHooks = {},
): Promise<void> {
  const reader = stream.getReader();
  // A cancel while a read waits on the source: the read ends now, not when the source sends more.
  const stop = () => void reader.cancel(hooks.signal?.reason).catch(() => undefined);
  hooks.signal?.addEventListener("abort", stop, { once: true });
  let buffer = new Uint8Array(PART_BYTES);
  let filled = 0;
  let upload: MultipartUpload | undefined;
  let partNumber = 0;
  const sendPart = async (data: Uint8Array) => {
    partNumber++;
    try {
      await upload!.uploadPart(partNumber, data);
    } catch (error) {
      if (hooks.signal?.aborted) throw error;
      hooks.onRetry?.(partNumber, error);
      await upload!.uploadPart(partNumber, data);
    }
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (hooks.signal?.aborted) throw hooks.signal.reason ?? new Error("aborted");
      if (done) break;
      let offset = 0;
      while (offset < value.byteLength) {
        const n = Math.min(PART_BYTES - filled, value.byteLength - offset);
        buffer.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === PART_BYTES) {
          if (!upload) {
            upload = await store.createMultipart(key, "application/octet-stream");
            await hooks.onMultipart?.(upload.uploadId);
          }
          await sendPart(buffer);
          // A fresh buffer: R2 may still hold a view of the one it was given.
          buffer = new Uint8Array(PART_BYTES);
          filled = 0;
        }
      }
    }
    if (!upload) {
      await store.put(key, buffer.slice(0, filled), "application/octet-stream");
      return;
    }
    if (filled > 0) await sendPart(buffer.subarray(0, filled));
    await upload.complete();
    await hooks.onMultipart?.(null);
  } catch (error) {
    await reader.cancel(error).catch(() => undefined);
    if (upload) {
      const aborted = await upload.abort().then(
        () => true,
        () => false,
      );
      // Still open in the store: the holder of the id keeps it and tries again later.
      if (aborted) await Promise.resolve(hooks.onMultipart?.(null)).catch(() => undefined);
    }
    throw error;
  } finally {
    hooks.signal?.removeEventListener("abort", stop);
  }
}
