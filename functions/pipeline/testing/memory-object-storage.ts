/**
 * Tests only: ObjectStorage in memory, for the storage function app inside workerd (where the
 * Supabase Storage stand-in, a Node server, cannot run). The storage function, its internal
 * token check and the service-binding client all stay real; only the bucket is a Map. `put` is
 * what a client's PUT to the signed upload URL does.
 */
import { err, ok } from "../../../shared/core/result";
import { type ObjectStorage, storageErrors } from "../../../shared/storage/object-storage";

export interface MemoryObjectStorage extends ObjectStorage {
  put(path: string, bytes: Uint8Array, contentType: string): void;
  has(path: string): boolean;
}

export function createMemoryObjectStorage(): MemoryObjectStorage {
  const objects = new Map<string, { bytes: Uint8Array; contentType: string | null }>();
  const inAnHour = () => new Date(Date.now() + 60 * 60 * 1000);
  return {
    put(path, bytes, contentType) {
      objects.set(path, { bytes: new Uint8Array(bytes), contentType });
    },
    has: (path) => objects.has(path),
    async createSignedUploadUrl(path) {
      const token = crypto.randomUUID();
      return ok({
        url: `https://storage.test/upload/${path}?token=${token}`,
        token,
        path,
        expiresAt: inAnHour(),
      });
    },
    async statObject(path) {
      const object = objects.get(path);
      return ok(object ? { size: object.bytes.length, contentType: object.contentType } : null);
    },
    async readObjectHead(path, bytes) {
      const object = objects.get(path);
      return object ? ok(object.bytes.slice(0, bytes)) : err(storageErrors.notFound());
    },
    async readObject(path, options = {}) {
      const object = objects.get(path);
      if (!object) return err(storageErrors.notFound());
      if (options.maxBytes !== undefined && object.bytes.length > options.maxBytes) {
        return err(storageErrors.tooLarge());
      }
      return ok(object.bytes.slice());
    },
    async openObjectStream(path) {
      const object = objects.get(path);
      if (!object) return err(storageErrors.notFound());
      const body = new Response(object.bytes.slice()).body as ReadableStream<Uint8Array>;
      return ok({ body, size: object.bytes.length, contentType: object.contentType });
    },
    async createSignedDownloadUrl(path) {
      return ok({ url: `https://storage.test/download/${path}`, expiresAt: inAnHour() });
    },
    async removeObjects(paths) {
      let removed = 0;
      for (const path of paths) if (objects.delete(path)) removed += 1;
      return ok({ removed });
    },
  };
}
