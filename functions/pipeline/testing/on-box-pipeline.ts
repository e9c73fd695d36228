/**
 * The pipeline's steps as tests and benchmarks run them in process: documents put into memory
 * storage, no OCR engine (text documents only), the production gateway answering on-box, a fixed
 * clock. Pair with shared/pipeline/steps/testing (seedDocument, createRun, runAllSteps).
 */
import type { KeyRing } from "../../../shared/config/key-ring";
import type { Database, Sql } from "../../../shared/db/database";
import type { StepContext } from "../../../shared/pipeline/pipeline-steps";
import { onBoxGateway, type PipelineFixture } from "../../../shared/pipeline/steps/testing";
import { testKeyRing } from "../../../test/helpers/identity";
import { createMemoryObjectStorage, type MemoryObjectStorage } from "./memory-object-storage";

export interface OnBoxPipeline {
  storage: MemoryObjectStorage;
  fixture: PipelineFixture;
  ctx: StepContext;
}

export function onBoxPipeline(input: {
  owner: Sql;
  db: Database;
  tenantId: string;
  requestId: string;
  storage?: MemoryObjectStorage;
  auditKeys?: KeyRing;
}): OnBoxPipeline {
  const storage = input.storage ?? createMemoryObjectStorage();
  return {
    storage,
    fixture: {
      owner: input.owner,
      tenantId: input.tenantId,
      putObject: async (path, bytes, contentType) => storage.put(path, bytes, contentType),
    },
    ctx: {
      db: input.db,
      storage,
      getOcr: async () => ({ ok: false, error: { code: "ocr_unavailable", message: "no OCR" } }),
      llm: onBoxGateway(input.db),
      auditKeys: input.auditKeys ?? testKeyRing("AUDIT_KEYS"),
      now: () => new Date("2026-06-01T10:00:00Z"),
      requestId: input.requestId,
    },
  };
}
