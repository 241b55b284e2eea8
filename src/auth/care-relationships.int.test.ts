/** The principal-to-patient relationships policy decisions rest on, on every supported database. */
import { afterEach, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { createAuditWorld } from '../audit/testing/audit-world.js';
import type { AuditWorld } from '../audit/testing/audit-world.js';
import { CareRelationships } from './care-relationships.js';
import type { Principal } from './principal.js';

const ADMIN: Principal = { id: 'usr_admin', kind: 'person', roles: ['admin'] };

describe.each(testDialects())('CareRelationships on $name', (dialect) => {
  let w: AuditWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  it('reports the strongest live relationship, honours expiry, and audits changes', async () => {
    w = await createAuditWorld(dialect);
    const rel = new CareRelationships(w.t.db, w.log, w.clock);
    expect(await rel.relationshipOf('usr_a', 'pt-1')).toBe('none');
    const inOneHour = new Date(w.clock.now().getTime() + 3_600_000).toISOString();
    await rel.add({ principalId: 'usr_a', patientId: 'pt-1', kind: 'assigned' }, ADMIN);
    expect(await rel.relationshipOf('usr_a', 'pt-1')).toBe('assigned');
    await rel.add({ principalId: 'usr_a', patientId: 'pt-1', kind: 'care-team', expiresAt: inOneHour }, ADMIN);
    expect(await rel.relationshipOf('usr_a', 'pt-1')).toBe('care-team');
    expect(await rel.relationshipOf('usr_a', 'pt-2')).toBe('none');
    expect(await rel.relationshipOf('usr_b', 'pt-1')).toBe('none');
    w.clock.advance(3_600_000);
    expect(await rel.relationshipOf('usr_a', 'pt-1')).toBe('assigned');
    expect(await rel.remove({ principalId: 'usr_a', patientId: 'pt-1', kind: 'assigned' }, ADMIN)).toBe(true);
    expect(await rel.remove({ principalId: 'usr_a', patientId: 'pt-1', kind: 'assigned' }, ADMIN)).toBe(false);
    expect(await rel.relationshipOf('usr_a', 'pt-1')).toBe('none');
    expect((await rel.list({ principalId: 'usr_a' })).map((r) => r.kind)).toEqual(['care-team']);
    await w.log.flush();
    const actions = (await w.t.db.selectFrom('audit_entry').select(['action', 'patient_id']).orderBy('seq').execute()).map((r) => `${r.action}:${r.patient_id}`);
    expect(actions).toEqual(['care-relationship.add:pt-1', 'care-relationship.add:pt-1', 'care-relationship.remove:pt-1', 'care-relationship.remove:pt-1']);
  });

  it('refuses unknown kinds, free-text ids and past expiry', async () => {
    w = await createAuditWorld(dialect);
    const rel = new CareRelationships(w.t.db, w.log, w.clock);
    await expect(rel.add({ principalId: 'usr_a', patientId: 'pt-1', kind: 'friend' }, ADMIN)).rejects.toMatchObject({ code: 'request.invalid' });
    await expect(rel.add({ principalId: 'usr_a', patientId: 'Jane Doe', kind: 'assigned' }, ADMIN)).rejects.toMatchObject({ code: 'request.invalid' });
    await expect(rel.add({ principalId: 'usr_a', patientId: 'pt-1', kind: 'assigned', expiresAt: '2020-01-01T00:00:00.000Z' }, ADMIN)).rejects.toMatchObject({ code: 'request.invalid' });
  });
});
