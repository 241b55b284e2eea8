/**
 * Records: where the data views are defined, which key provider wraps data keys, and the
 * retention rule that `ward patient erase` must respect.
 */
import { z } from 'zod';

export const pkcs11ConfigSchema = z
  .object({
    /** Path of the PKCS#11 module (e.g. SoftHSM2's libsofthsm2.so). */
    module: z.string().min(1),
    /** Token label of the slot holding Ward's key-encryption keys. */
    tokenLabel: z.string().min(1),
    /** User PIN; prefer the WARD_PKCS11_PIN environment variable over the config file. */
    pin: z.string().min(1).optional(),
  })
  .strict();

export const recordsConfigSchema = z
  .object({
    /** The data views file; defaults to `views.json` in the data directory. */
    viewsFile: z.string().min(1).optional(),
    /** Which key provider wraps the data keys: the local key file (default) or a PKCS#11 HSM. */
    keyProvider: z.enum(['local', 'pkcs11']).default('local'),
    pkcs11: pkcs11ConfigSchema.optional(),
    /**
     * Retention: a patient's records may not be erased until this many years after the
     * latest year of clinical activity held (0: no retention rule). Medical-record
     * retention is set by state law and the organization's policy, often 6-10 years.
     */
    retentionYears: z.number().int().min(0).max(100).default(0),
  })
  .strict()
  .refine((r) => r.keyProvider !== 'pkcs11' || r.pkcs11 !== undefined, { message: 'keyProvider "pkcs11" needs a pkcs11 section', path: ['pkcs11'] });

export type RecordsConfig = z.infer<typeof recordsConfigSchema>;
