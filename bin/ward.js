#!/usr/bin/env node
// The `ward` command. Sources are TypeScript run through tsx's loader, so `npx ward` works
// right after `npm ci` with no build step and no stale build output.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
