import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listRepositoryFiles, readRepositoryFile } from "../check-llm-gateway";
import { checkFile, checkRepository } from "./llm-gateway-check";
import { REPO_ROOT } from "./migrations-dir";

describe("checkFile", () => {
  it.each([
    ['import OpenAI from "openai";', "model-sdk-import"],
    ['import { OpenAI } from "openai/index.mjs";', "model-sdk-import"],
    ['const { default: A } = await import("@anthropic-ai/sdk");', "model-sdk-import"],
    ['const g = require("@google/generative-ai");', "model-sdk-import"],
    ['import { generateText } from "ai";', "model-sdk-import"],
    ['import { openai } from "@ai-sdk/openai";', "model-sdk-import"],
    ['await fetch("https://api.openai.com/v1/embeddings", init);', "model-endpoint:openai-host"],
    ['const url = base + "/v1/chat/completions";', "model-endpoint:openai-style-path"],
    ['fetch("https://clinic.openai.azure.com/openai/deployments/x")', "model-endpoint:azure-openai-host"],
  ])("finds %s", (line, rule) => {
    expect(checkFile("shared/pipeline/steps/sneaky.ts", `// x\n${line}\n`).map((v) => v.rule)).toContain(
      rule,
    );
  });

  it("allows the gateway and the stand-in, and leaves look-alikes alone", () => {
    expect(checkFile("shared/llm/openai/create-openai-provider.ts", 'import OpenAI from "openai";')).toEqual(
      [],
    );
    expect(checkFile("scripts/local/openai-standin/server.ts", '"/v1/chat/completions"')).toEqual([]);
    expect(
      checkFile("shared/x.ts", 'import { z } from "zod"; import a from "./ai"; import b from "aim";'),
    ).toEqual([]);
  });
});

describe("the repository", () => {
  it("reaches models only through shared/llm/", () => {
    const result = checkRepository({
      listFiles: () => listRepositoryFiles(REPO_ROOT),
      read: (file) => readRepositoryFile(REPO_ROOT, file),
    });
    expect(result.checkedFiles).toBeGreaterThan(300);
    expect(result.violations).toEqual([]);
  });

  it("npm run check:llm-gateway fails on a planted violation and names it", () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-gateway-check-"));
    execFileSync("git", ["init", "-q"], { cwd: dir });
    mkdirSync(join(dir, "shared/pipeline"), { recursive: true });
    mkdirSync(join(dir, "shared/llm"), { recursive: true });
    writeFileSync(join(dir, "shared/llm/ok.ts"), 'import OpenAI from "openai";\n');
    writeFileSync(
      join(dir, "shared/pipeline/direct.ts"),
      'import OpenAI from "openai";\nexport const c = new OpenAI();\n',
    );
    const run = (root: string) =>
      spawnSync(
        process.execPath,
        ["--import", "tsx", join(REPO_ROOT, "scripts/check-llm-gateway.ts"), "--root", root],
        {
          cwd: REPO_ROOT,
          encoding: "utf8",
        },
      );
    const planted = run(dir);
    expect(planted.status, planted.stdout + planted.stderr).toBe(1);
    expect(planted.stdout).toContain("shared/pipeline/direct.ts:1  model-sdk-import  openai");
    expect(planted.stdout).not.toContain("shared/llm/ok.ts");
    const clean = run(REPO_ROOT);
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
  });
});
