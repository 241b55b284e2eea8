/**
 * Module boundaries from docs/DESIGN (see README "Architecture"):
 *   http, cli -> workflows -> gateway -> {policy, records, deid, models, guards, audit, auth} -> storage -> shared
 * (`gateway`, the model call pipeline, sits under workflows: workflows call models through it; ADR 0007.)
 * main.ts is the composition root and may import anything. `deid`, `policy`, `guards` do no I/O.
 */
const layer = (from, allowed) => ({
  name: `${from}-boundary`,
  comment: `src/${from} may only import ${allowed.join(', ') || 'nothing in src'}`,
  severity: 'error',
  // Test worlds under http/testing build the server through the composition root, so tests
  // run the same wiring as production.
  from: { path: `^src/${from}/`, pathNot: from === 'http' ? '^src/http/testing/' : undefined },
  to: {
    path: '^src/',
    pathNot: [`^src/${from}/`, ...allowed.map((a) => `^src/${a}(/|\\.ts$)`)],
  },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'no-orphans-in-src', severity: 'warn', from: { orphan: true, path: '^src/', pathNot: '\\.(test|d)\\.ts$|README' }, to: {} },
    layer('shared', []),
    layer('config', ['shared']),
    layer('storage', ['shared']),
    layer('deid', ['shared']),
    layer('policy', ['shared']),
    layer('guards', ['shared', 'deid']),
    layer('audit', ['shared', 'storage']),
    layer('auth', ['shared', 'storage', 'audit', 'policy']),
    layer('records', ['shared', 'storage', 'audit', 'policy']),
    layer('models', ['shared', 'config', 'storage', 'audit', 'deid']),
    layer('gateway', ['shared', 'config', 'storage', 'audit', 'auth', 'policy', 'records', 'deid', 'models', 'guards']),
    layer('workflows', ['shared', 'storage', 'audit', 'auth', 'policy', 'records', 'deid', 'models', 'guards', 'gateway']),
    layer('http', ['shared', 'config', 'storage', 'audit', 'auth', 'policy', 'records', 'deid', 'models', 'guards', 'gateway', 'workflows']),
    layer('cli', ['shared', 'config', 'storage', 'audit', 'auth', 'policy', 'records', 'deid', 'models', 'guards', 'gateway', 'workflows', 'http', 'main']),
    {
      name: 'no-test-imports-in-product',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '\\.test\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
