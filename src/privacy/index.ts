/**
 * Personal data: operators that mask, tokenise and encrypt fields of records, and
 * crypto-shredding (`SubjectKeys.forget`). The PostgreSQL and Redis vaults and key store
 * are exported from `sluice/postgres` and `sluice/redis`.
 *
 * @module
 */
export { mask, maskValue, type MaskMethod } from './mask.js';
export { tokenize, tokenizeCached, detokenize } from './tokenize.js';
export { TokenVault, type TokenVaultOptions } from './token-vault.js';
export type { KeyStore } from './key-store.js';
export { FileKeyStore } from './file-key-store.js';
export { SubjectKeys, type SubjectKeysOptions } from './subject-keys.js';
export { encryptFields, decryptFields, ENCRYPTED_PREFIX, type FieldEncryptionOptions } from './encrypt-fields.js';
export type { FieldsOf } from './fields.js';
