/**
 * Upload intents (medchr.upload_intents): one per storage path handed out, so that
 * registration accepts only a path issued for this tenant and patient, before its window
 * closes, once. Also the record that lets the sweeper remove what an abandoned upload left.
 */
import type { Tx } from "../db/database";
import type { DocumentMediaType } from "./detect-media-type";

export interface UploadIntentRow {
  id: string;
  patient_id: string;
  storage_path: string;
  original_filename: string;
  declared_media_type: DocumentMediaType;
  declared_size: number;
  expires_at: Date;
  consumed_at: Date | null;
  outcome: "registered" | "refused" | null;
}

export interface NewUploadIntent {
  id: string;
  patientId: string;
  storagePath: string;
  filename: string;
  declaredMediaType: DocumentMediaType;
  declaredSize: number;
  expiresAt: Date;
  uploadUrlExpiresAt: Date;
}

/** Whether the patient exists in the transaction's tenant (RLS: another tenant's reads as absent). */
export async function patientExists(tx: Tx, patientId: string): Promise<boolean> {
  const [row] = await tx<{ found: boolean }[]>`
    select exists (select 1 from medchr.patients where id = ${patientId}) as found`;
  return row?.found === true;
}

export async function insertUploadIntent(tx: Tx, intent: NewUploadIntent): Promise<void> {
  await tx`
    insert into medchr.upload_intents (id, tenant_id, patient_id, storage_path, original_filename,
      declared_media_type, declared_size, expires_at, upload_url_expires_at)
    values (${intent.id}, (select medchr.current_tenant_id()), ${intent.patientId}, ${intent.storagePath},
      ${intent.filename}, ${intent.declaredMediaType}, ${intent.declaredSize}, ${intent.expiresAt},
      ${intent.uploadUrlExpiresAt})`;
}

/** An intent of this patient by id or by path; anything else (another patient's, another tenant's) is absent. */
export async function findUploadIntent(
  tx: Tx,
  patientId: string,
  key: { uploadId: string } | { path: string },
): Promise<UploadIntentRow | null> {
  const [row] = await tx<UploadIntentRow[]>`
    select id, patient_id, storage_path, original_filename, declared_media_type, declared_size,
      expires_at, consumed_at, outcome
    from medchr.upload_intents
    where patient_id = ${patientId}
      and ${"uploadId" in key ? tx`id = ${key.uploadId}` : tx`storage_path = ${key.path}`}`;
  return row ?? null;
}

/**
 * Marks the intent used, once: false when another request got there first (a double or
 * concurrent registration), which must then leave the object alone.
 */
export async function consumeUploadIntent(
  tx: Tx,
  intentId: string,
  outcome: "registered" | "refused",
  now: Date,
): Promise<boolean> {
  const rows = await tx`
    update medchr.upload_intents set consumed_at = ${now}, outcome = ${outcome}
    where id = ${intentId} and consumed_at is null
    returning id`;
  return rows.length === 1;
}
