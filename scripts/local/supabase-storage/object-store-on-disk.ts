/**
 * The stand-in's objects on disk, under one data folder:
 *
 *   buckets/<bucket>.json                      bucket settings
 *   objects/<bucket>/<h2>/<sha256>             object bytes
 *   objects/<bucket>/<h2>/<sha256>.json        object metadata (key, type, size, etag, times)
 *   used-upload-tokens/<jti>                   spent upload tokens (one-time use), pruned when expired
 *   tmp/                                       uploads in progress
 *   jwt-secret                                 signing key for signed URLs (mode 600)
 *
 * File names are the SHA-256 of the object key, never the key itself, so no client-chosen
 * string ever becomes part of a file path: traversal is impossible by construction, and
 * keys such as "a" and "a/b" can both exist. Bucket names are validated to a directory-safe
 * set before use. Writes go to tmp/ and are renamed into place, so a crash never leaves a
 * half-written object visible.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createReadStream, type ReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { failures } from "./storage-errors";
import { assertBucketName } from "./storage-key";

export interface BucketRecord {
  id: string;
  name: string;
  public: boolean;
  file_size_limit: number | null;
  allowed_mime_types: string[] | null;
  created_at: string;
  updated_at: string;
}

export interface ObjectRecord {
  id: string;
  bucket_id: string;
  name: string;
  size: number;
  content_type: string;
  cache_control: string;
  etag: string;
  created_at: string;
  last_modified: string;
}

export interface PendingWrite {
  readonly size: number;
  readonly etag: string;
  readonly tempPath: string;
}

export class ObjectStoreOnDisk {
  /** Serialises commit and remove per object: "must not exist" checks are not racy. */
  private readonly locks = new Map<string, Promise<unknown>>();

  private constructor(
    readonly dataDir: string,
    private readonly now: () => number,
  ) {}

  static async open(dataDir: string, now: () => number): Promise<ObjectStoreOnDisk> {
    for (const dir of ["buckets", "objects", "used-upload-tokens", "tmp"]) {
      await mkdir(join(dataDir, dir), { recursive: true, mode: 0o700 });
    }
    const store = new ObjectStoreOnDisk(dataDir, now);
    await store.pruneSpentTokens();
    // Leftovers of uploads interrupted by a crash or a kill.
    for (const name of await readdir(join(dataDir, "tmp")))
      await rm(join(dataDir, "tmp", name), { force: true });
    return store;
  }

  /** The HS256 secret for signed URLs: kept in the data folder so links survive a restart. */
  async loadOrCreateJwtSecret(): Promise<Uint8Array> {
    const path = join(this.dataDir, "jwt-secret");
    try {
      const existing = Buffer.from((await readFile(path, "utf8")).trim(), "base64url");
      if (existing.length >= 32) return new Uint8Array(existing);
    } catch {
      // first start
    }
    const secret = randomBytes(32);
    await writeFile(path, `${secret.toString("base64url")}\n`, { mode: 0o600 });
    return new Uint8Array(secret);
  }

  // --- buckets ---

  async getBucket(id: string): Promise<BucketRecord | null> {
    try {
      return JSON.parse(await readFile(this.bucketFile(id), "utf8")) as BucketRecord;
    } catch {
      return null;
    }
  }

  async createBucket(record: BucketRecord): Promise<"created" | "exists"> {
    try {
      await writeFile(this.bucketFile(record.id), JSON.stringify(record), { flag: "wx", mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return "exists";
      throw error;
    }
    await mkdir(join(this.dataDir, "objects", record.id), { recursive: true, mode: 0o700 });
    return "created";
  }

  // --- objects ---

  async stat(bucket: string, key: string): Promise<ObjectRecord | null> {
    try {
      const record = JSON.parse(await readFile(this.metaFile(bucket, key), "utf8")) as ObjectRecord;
      // The hash names the file; the record names the key. Both must agree.
      return record.name === key && record.bucket_id === bucket ? record : null;
    } catch {
      return null;
    }
  }

  /** Bytes [start, end] inclusive, or the whole object. */
  openRead(bucket: string, key: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.dataFile(bucket, key), range ? { start: range.start, end: range.end } : {});
  }

  /**
   * Streams `body` into a temporary file, refusing it once it passes `maxBytes` (before it
   * is all on disk). The write becomes visible only through commit(). A refused request is
   * not destroyed, so the caller can still answer it.
   */
  async receive(body: Readable | Uint8Array, maxBytes: number): Promise<PendingWrite> {
    const tempPath = join(this.dataDir, "tmp", randomUUID());
    const hash = createHash("md5"); // S3-style ETag: MD5 of the content, not a security control
    let size = 0;
    // Opened (and so created) before anything can fail: the cleanup below always finds it.
    const handle = await open(tempPath, "wx", 0o600);
    try {
      if (body instanceof Uint8Array) {
        if (body.length > maxBytes) throw failures.entityTooLarge();
        hash.update(body);
        size = body.length;
        await handle.writeFile(body);
      } else {
        for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > maxBytes) throw failures.entityTooLarge();
          hash.update(chunk);
          await handle.write(chunk);
        }
      }
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(tempPath, { force: true });
      throw error;
    }
    return { size, etag: `"${hash.digest("hex")}"`, tempPath };
  }

  async discard(pending: PendingWrite): Promise<void> {
    await rm(pending.tempPath, { force: true });
  }

  /** Moves a received object into place; "exists" (and nothing changed) when it exists and upsert is off. */
  async commit(
    pending: PendingWrite,
    bucket: string,
    key: string,
    details: { contentType: string; cacheControl: string; upsert: boolean },
  ): Promise<{ outcome: "created" | "exists"; record?: ObjectRecord }> {
    return this.withLock(bucket, key, async () => {
      const existing = await this.stat(bucket, key);
      if (existing && !details.upsert) {
        await this.discard(pending);
        return { outcome: "exists" as const };
      }
      const now = new Date(this.now()).toISOString();
      const record: ObjectRecord = {
        id: existing?.id ?? randomUUID(),
        bucket_id: bucket,
        name: key,
        size: pending.size,
        content_type: details.contentType,
        cache_control: details.cacheControl,
        etag: pending.etag,
        created_at: existing?.created_at ?? now,
        last_modified: now,
      };
      await mkdir(this.shardDir(bucket, key), { recursive: true, mode: 0o700 });
      await rename(pending.tempPath, this.dataFile(bucket, key));
      const metaTemp = join(this.dataDir, "tmp", randomUUID());
      await writeFile(metaTemp, JSON.stringify(record), { mode: 0o600 });
      await rename(metaTemp, this.metaFile(bucket, key));
      return { outcome: "created" as const, record };
    });
  }

  /** The removed object's record, or null when there was none. */
  async remove(bucket: string, key: string): Promise<ObjectRecord | null> {
    return this.withLock(bucket, key, async () => {
      const record = await this.stat(bucket, key);
      if (!record) return null;
      // Metadata first: without it the object no longer exists for any reader.
      await rm(this.metaFile(bucket, key), { force: true });
      await rm(this.dataFile(bucket, key), { force: true });
      return record;
    });
  }

  async dataSize(bucket: string, key: string): Promise<number | null> {
    try {
      return (await stat(this.dataFile(bucket, key))).size;
    } catch {
      return null;
    }
  }

  // --- one-time upload tokens ---

  /**
   * Marks an upload token spent. Exclusive create ("wx") is atomic in the file system, so two
   * concurrent uploads with one token cannot both win. The file holds the token's expiry for pruning.
   */
  async spendToken(jti: string, exp: number): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/.test(jti)) return false;
    try {
      const handle = await open(join(this.dataDir, "used-upload-tokens", jti), "wx", 0o600);
      await handle.writeFile(String(exp));
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    }
  }

  /** An upload that failed before anything was stored gives its token back, so the client can retry. */
  async refundToken(jti: string): Promise<void> {
    if (!/^[0-9a-f-]{36}$/.test(jti)) return;
    await rm(join(this.dataDir, "used-upload-tokens", jti), { force: true });
  }

  private async pruneSpentTokens(): Promise<void> {
    const dir = join(this.dataDir, "used-upload-tokens");
    const nowSeconds = Math.floor(this.now() / 1000);
    for (const name of await readdir(dir)) {
      const exp = Number(await readFile(join(dir, name), "utf8").catch(() => "0"));
      // An expired token is refused by its signature check anyway; its record can go.
      if (!Number.isFinite(exp) || exp < nowSeconds) await rm(join(dir, name), { force: true });
    }
  }

  // --- layout ---

  private bucketFile(id: string): string {
    return join(this.dataDir, "buckets", `${assertBucketName(id)}.json`);
  }

  private shardDir(bucket: string, key: string): string {
    return join(this.dataDir, "objects", assertBucketName(bucket), keyHash(key).slice(0, 2));
  }

  private dataFile(bucket: string, key: string): string {
    return join(this.shardDir(bucket, key), keyHash(key));
  }

  private metaFile(bucket: string, key: string): string {
    return `${this.dataFile(bucket, key)}.json`;
  }

  private async withLock<T>(bucket: string, key: string, work: () => Promise<T>): Promise<T> {
    const id = `${bucket}\n${key}`;
    const previous = this.locks.get(id) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(id, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    }
  }
}

function keyHash(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}
