/** What other domains (and the tests) may use of operations: the backups and what names them. */
export type { BackupEntry, Backups, RestoreResult, RestoreTarget, VerifyResult } from "./backups";
export { type BackupFormat, type BackupKind, backupObjectName, parseBackupName } from "./objects";
export { planRetention, type RetentionRules } from "./retention";
export type { SecretsBackup } from "./secrets";
export { isEmptyDatabase, tableRowCounts } from "./tables";
