/**
 * Errors as Supabase Storage (storage-api) renders them: a JSON body
 * `{ statusCode: "<semantic status>", code, error, message }`, and an HTTP status of 400 for
 * every client error, because storage-api's error handler answers 4xx backend errors with
 * 400 and keeps the semantic status in the body (supabase-js's `exists()` accepts 400 or 404
 * for a missing object for that reason). Exceptions kept here as the service has them: 416
 * for an unsatisfiable Range, 401 from the API gateway for a bad key, 404 for an unknown route,
 * 500 for our own faults. Messages never contain object keys.
 */
export class StorageFailure extends Error {
  constructor(
    /** The semantic status, rendered as a string in the body. */
    readonly statusCode: number,
    readonly code: string,
    readonly error: string,
    message: string,
    readonly httpStatus: number = statusCode >= 500 ? 500 : 400,
  ) {
    super(message);
    this.name = "StorageFailure";
  }

  body() {
    return { statusCode: String(this.statusCode), code: this.code, error: this.error, message: this.message };
  }
}

export const failures = {
  unauthorized: () => new StorageFailure(401, "Unauthorized", "Unauthorized", "Invalid API key", 401),
  routeNotFound: () => new StorageFailure(404, "NotFound", "Not Found", "Route not found", 404),
  noSuchBucket: () => new StorageFailure(404, "NoSuchBucket", "Bucket not found", "Bucket not found"),
  noSuchKey: () => new StorageFailure(404, "NoSuchKey", "not_found", "Object not found"),
  keyAlreadyExists: () =>
    new StorageFailure(409, "KeyAlreadyExists", "Duplicate", "The resource already exists"),
  bucketAlreadyExists: () =>
    new StorageFailure(409, "BucketAlreadyExists", "Duplicate", "The resource already exists"),
  invalidKey: () => new StorageFailure(400, "InvalidKey", "InvalidKey", "Invalid key"),
  invalidBucketName: () =>
    new StorageFailure(400, "InvalidBucketName", "Invalid Input", "Bucket name invalid"),
  invalidRequest: (message: string) => new StorageFailure(400, "InvalidRequest", "Bad Request", message),
  invalidJwt: (message: string) => new StorageFailure(400, "InvalidJWT", "InvalidJWT", message),
  invalidSignature: () =>
    new StorageFailure(400, "InvalidSignature", "InvalidSignature", "The token does not match this object"),
  tokenAlreadyUsed: () =>
    new StorageFailure(400, "InvalidJWT", "InvalidJWT", "The upload token has already been used"),
  entityTooLarge: () =>
    new StorageFailure(
      413,
      "EntityTooLarge",
      "Payload too large",
      "The object exceeded the maximum allowed size",
    ),
  invalidMimeType: () =>
    new StorageFailure(415, "InvalidMimeType", "invalid_mime_type", "The mime type is not supported"),
  invalidRange: () => new StorageFailure(416, "InvalidRange", "invalid_range", "invalid range provided", 416),
  internal: () => new StorageFailure(500, "InternalError", "internal", "Internal Server Error"),
} as const;
