/**
 * The models Ward may call, from configuration: each with its adapter, trust zone, limits,
 * purposes and fallbacks. Built once at start by the composition root (which makes the concrete
 * adapters); checked then, so a fallback to a weaker zone or an unknown model stops the start
 * instead of surfacing during an outage.
 */
import type { ModelConfig } from '../config/models-config.js';
import { WardError } from '../shared/ward-error.js';
import type { ModelAdapter } from './model-adapter.js';
import { ModelSlots } from './model-slots.js';
import { isSameOrStronger } from './trust-zone.js';
import type { TrustZone } from './trust-zone.js';

export interface RegisteredModel {
  readonly id: string;
  readonly config: ModelConfig;
  readonly zone: TrustZone;
  /** The Business Associate Agreement reference of a `baa` model. */
  readonly baa?: string;
  readonly adapter: ModelAdapter;
  readonly slots: ModelSlots;
}

export type AdapterFactory = (config: ModelConfig) => Promise<ModelAdapter>;

export class ModelRegistry {
  private readonly models: ReadonlyMap<string, RegisteredModel>;

  private constructor(models: Map<string, RegisteredModel>) {
    this.models = models;
  }

  /** Check the configuration, then open every adapter (an adapter that cannot open stops the start). */
  static async open(configs: readonly ModelConfig[], makeAdapter: AdapterFactory): Promise<ModelRegistry> {
    checkRegistry(configs);
    const models = new Map<string, RegisteredModel>();
    try {
      for (const config of configs) {
        const adapter = await makeAdapter(config);
        const { concurrency, queue } = config.limits;
        models.set(config.id, {
          id: config.id,
          config,
          zone: config.zone,
          ...(config.zone === 'baa' && 'baa' in config ? { baa: config.baa } : {}),
          adapter,
          slots: new ModelSlots({ concurrency, queue }),
        });
      }
    } catch (e) {
      for (const m of models.values()) await m.adapter.close().catch(() => undefined);
      throw e;
    }
    return new ModelRegistry(models);
  }

  get(id: string): RegisteredModel | undefined {
    return this.models.get(id);
  }

  list(): RegisteredModel[] {
    return [...this.models.values()];
  }

  /** The model, then its fallbacks in order (each checked at start to be the same zone or stronger). */
  chain(model: RegisteredModel): RegisteredModel[] {
    const chain = [model];
    for (const id of model.config.fallback) {
      const next = this.models.get(id);
      if (next !== undefined) chain.push(next);
    }
    return chain;
  }

  async close(): Promise<void> {
    for (const m of this.models.values()) await m.adapter.close().catch(() => undefined);
  }
}

/** One line per problem, all of them at once. */
export function checkRegistry(configs: readonly ModelConfig[]): void {
  const problems: string[] = [];
  const byId = new Map<string, ModelConfig>();
  for (const c of configs) {
    if (byId.has(c.id)) problems.push(`model ${c.id} is declared twice`);
    byId.set(c.id, c);
  }
  for (const c of configs) {
    for (const f of c.fallback) {
      const target = byId.get(f);
      if (target === undefined) problems.push(`model ${c.id} falls back to unknown model ${f}`);
      else if (f === c.id) problems.push(`model ${c.id} falls back to itself`);
      else if (!isSameOrStronger(target.zone, c.zone)) problems.push(`model ${c.id} (${c.zone}) may not fall back to ${f} (${target.zone}): fallback never goes to a weaker trust zone`);
    }
  }
  if (problems.length > 0) throw new WardError('config.invalid', `models: ${problems.join('; ')}`);
}
