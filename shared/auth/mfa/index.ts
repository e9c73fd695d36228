/** TOTP MFA domain layer (issue 3). Every function runs inside a tenant-scoped `tx`. */
export { type ConfirmedMfaSetup, ConfirmMfaSetupInput, confirmMfaSetup } from "./confirm-mfa-setup";
export { GetMfaStatusInput, getMfaStatus, type MfaStatus } from "./get-mfa-status";
export type { MfaAuditContext } from "./mfa-audit";
export * from "./mfa-policy";
export { RegenerateRecoveryCodesInput, regenerateRecoveryCodes } from "./regenerate-recovery-codes";
export { RekeyMfaSecretsInput, type RekeyMfaSecretsReport, rekeyMfaSecrets } from "./rekey-mfa-secrets";
export { RemoveMfaFactorInput, removeMfaFactor } from "./remove-mfa-factor";
export { type StartedMfaSetup, StartMfaSetupInput, startMfaSetup } from "./start-mfa-setup";
export {
  type MfaFactorKind,
  type VerifiedMfaCode,
  type VerifyMfaCodeError,
  VerifyMfaCodeInput,
  verifyMfaCode,
} from "./verify-mfa-code";
