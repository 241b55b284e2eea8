/**
 * The model gateway's pipeline for one chat call (DESIGN "One request, end to end", steps 4-8):
 * the model and its purposes, rate limits and quotas, the PHI scan and egress plan per trust
 * zone, the call itself (bounded concurrency, timeout, cancellation, fallback only to the same
 * or a stronger zone), the output guards (JSON schema with one retry, identifiers of patients
 * outside the scope), re-identification for an authorized caller, and one audit entry per call.
 *
 * Fails closed: a refused plan, a guard verdict, an audit write that fails, an abort: nothing
 * reaches the caller. A streamed answer is held back by a few characters and guarded before
 * each piece leaves; what was already sent when a later piece is blocked is audited as partial.
 */
import { analyze } from '../deid/analyzer.js';
import type { DeidDictionaries } from '../deid/dictionaries.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEntryInput } from '../audit/audit-entry.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import type { Obligations } from '../policy/access-decision.js';
import type { Clock } from '../shared/clock.js';
import { WardError, isWardError } from '../shared/ward-error.js';
import type { ChatMessage, ChatRequest, ChatResult, FinishReason, TokenUsage } from '../models/model-adapter.js';
import type { ModelRegistry, RegisteredModel } from '../models/model-registry.js';
import type { TrustZone } from '../models/trust-zone.js';
import type { JsonOutputGuard } from '../guards/json-output-guard.js';
import { identifierCandidates, identifierScopeVerdict } from '../guards/identifier-scope-guard.js';
import type { IdentifierCandidate } from '../guards/identifier-scope-guard.js';
import { StreamHoldback } from '../guards/stream-holdback.js';
import type { RateLimits } from './rate-limits.js';
import { planPrompt, reidentify, reidentifyJson } from './prompt-plan.js';
import { normalizeText } from './normalize-text.js';
import type { ExternalPhiRule, PromptPlan } from './prompt-plan.js';
import { chatAuditEntry } from './chat-audit.js';
import type { ChatAuditFacts } from './chat-audit.js';
import { canonicalJson } from '../shared/canonical-json.js';

/** Who asks and under which permit (from the access hook). */
export interface ChatCaller {
  who: AuditEntryInput['who'];
  obligations: Obligations;
  auditFields: Pick<AuditEntryInput, 'purpose' | 'patient' | 'breakGlass'>;
  context: AuditContext;
  /** Fires when the caller goes away (client disconnect, shutdown). */
  signal: AbortSignal;
}

export interface ChatCall {
  model: string;
  request: Omit<ChatRequest, 'maxTokens'> & { maxTokens?: number };
}

export interface ChatAnswer {
  model: RegisteredModel;
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  deidentified: boolean;
}

export type ChatStreamPiece =
  | { type: 'start'; model: RegisteredModel; deidentified: boolean }
  | { type: 'delta'; text: string }
  | { type: 'end'; finishReason: FinishReason; usage: TokenUsage };

export interface ChatGatewayDeps {
  registry: ModelRegistry;
  audit: AuditLog;
  clock: Clock;
  dictionaries: DeidDictionaries;
  jsonGuard: JsonOutputGuard;
  rateLimits: RateLimits;
  /** Patient ids owning each identifier value (the records' blind index; no decryption). */
  identifierOwners: (candidates: readonly IdentifierCandidate[]) => Promise<Map<string, string[]>>;
  /** Keyed hash of a prompt or response for the audit entry. */
  hashText: (text: string) => string;
  settings: { externalPhi: ExternalPhiRule; reidentifyExternal: boolean };
}

/** The messages as canonical JSON: what the prompt hash covers. */
function messagesDigestInput(messages: readonly ChatMessage[]): string {
  return canonicalJson(messages.map((m) => ({ role: m.role, content: m.content })));
}

/** Errors worth trying the next model in the chain for: the model failed, not the request. */
const RETRYABLE = new Set(['model.upstream_error', 'model.upstream_busy', 'model.upstream_invalid', 'model.upstream_unreachable', 'model.upstream_timeout', 'model.timeout', 'model.busy', 'model.embedded_unavailable']);

/** Characters of text before a released piece that the identifier scan looks at again (an identifier across the cut). */
const SCAN_OVERLAP = 160;

interface CallState {
  facts: ChatAuditFacts;
  started: number;
  /** Owners of identifier values already looked up in this call (a stream re-reads overlapping windows). */
  owners: Map<string, string[]>;
  /** Identifier values found in the answer that no patient owns. */
  unresolved: Set<string>;
}

/** The error of a model that did not answer within its limit. */
function timedOut(m: RegisteredModel): WardError {
  return new WardError('model.timeout', `model ${m.id} did not answer within ${m.config.limits.timeoutMs} ms`, { status: 504 });
}

export class ChatGateway {
  constructor(private readonly deps: ChatGatewayDeps) {}

  models(): RegisteredModel[] {
    return this.deps.registry.list();
  }

  /** A whole answer (non-streaming, or streaming with a JSON schema: validated before any byte leaves). */
  async complete(call: ChatCall, caller: ChatCaller): Promise<ChatAnswer> {
    const state = this.begin(call, caller, false);
    try {
      const answer = await this.completeWithGuards(call, caller, state);
      await this.deps.audit.append(chatAuditEntry({ ...state.facts, outcome: 'success', latencyMs: this.elapsed(state) }));
      return answer;
    } catch (e) {
      throw await this.failed(state, e);
    }
  }

  /**
   * A streamed answer. Pieces are released only after the identifier guard has seen them (with
   * some text before them, so an identifier split across pieces is seen whole); the first
   * piece is `start`, naming the model that answers.
   */
  async *stream(call: ChatCall, caller: ChatCaller): AsyncGenerator<ChatStreamPiece> {
    const state = this.begin(call, caller, true);
    let sentAny = false;
    try {
      // The end of the answer (`[DONE]` on the wire) is sent only once the call's audit entry
      // is durable: a failed append ends the stream with an error instead.
      let end: Extract<ChatStreamPiece, { type: 'end' }> | undefined;
      if (call.request.jsonSchema !== undefined) {
        const answer = await this.completeWithGuards(call, caller, state);
        yield { type: 'start', model: answer.model, deidentified: answer.deidentified };
        sentAny = true;
        yield { type: 'delta', text: answer.text };
        end = { type: 'end', finishReason: answer.finishReason, usage: answer.usage };
      } else {
        for await (const piece of this.streamWithGuards(call, caller, state)) {
          if (piece.type === 'end') {
            end = piece;
            continue;
          }
          yield piece;
          sentAny = true;
        }
      }
      this.audited.add(state);
      await this.deps.audit.append(chatAuditEntry({ ...state.facts, outcome: 'success', latencyMs: this.elapsed(state) }));
      if (end !== undefined) yield end;
    } catch (e) {
      state.facts.partial = sentAny;
      throw await this.failed(state, e);
    } finally {
      // A consumer that stops reading (the client went away) ends the generator here, with
      // neither a result nor an error: it is audited as cancelled, partial if anything was sent.
      if (!this.audited.has(state)) {
        state.facts.partial = sentAny;
        await this.failed(state, new WardError('model.cancelled', 'the model call was cancelled', { status: 499 })).catch(() => undefined);
      }
    }
  }

  private readonly audited = new WeakSet<CallState>();

  private begin(call: ChatCall, caller: ChatCaller, stream: boolean): CallState {
    const facts: ChatAuditFacts = {
      who: caller.who,
      auditFields: caller.auditFields,
      context: caller.context,
      model: call.model,
      outcome: 'success',
      categories: [],
      deidentified: false,
      reidentified: false,
      promptHash: this.deps.hashText(messagesDigestInput(call.request.messages)),
      promptTokens: 0,
      completionTokens: 0,
      latencyMs: 0,
      stream,
      attempts: 0,
      partial: false,
      unresolvedIdentifiers: 0,
    };
    return { facts, started: performance.now(), owners: new Map(), unresolved: new Set() };
  }

  private elapsed(state: CallState): number {
    return performance.now() - state.started;
  }

  /** Audit a failed call (denied for refusals, error otherwise) and hand back the error to throw. */
  private async failed(state: CallState, e: unknown): Promise<unknown> {
    if (this.audited.has(state)) return e;
    this.audited.add(state);
    const code = isWardError(e) ? e.code : 'model.failed';
    const denied = isWardError(e) && (e.status === 403 || e.status === 429 || e.code.startsWith('guard.') || e.code.startsWith('egress.'));
    state.facts.outcome = denied ? 'denied' : 'error';
    try {
      await this.deps.audit.append(chatAuditEntry({ ...state.facts, outcome: state.facts.outcome, reason: code, latencyMs: this.elapsed(state) }));
    } catch (auditError) {
      return auditError;
    }
    return e;
  }

  /** The model, its purposes, the caller's limits and the token cap: refusals before any work. */
  private admit(call: ChatCall, caller: ChatCaller, state: CallState): { model: RegisteredModel; maxTokens: number } {
    const model = this.deps.registry.get(call.model);
    if (model === undefined) {
      // The audit names only models Ward knows: an unknown name is the caller's text.
      state.facts.model = 'unknown';
      throw new WardError('model.unknown', 'no such model; GET /v1/models lists the models you may use', { status: 404 });
    }
    state.facts.zone = model.zone;
    const purpose = caller.auditFields.purpose;
    const purposes = model.config.purposes;
    if (purposes !== undefined && (purpose === undefined || !purposes.includes(purpose))) {
      throw new WardError('model.purpose_not_allowed', `model ${model.id} does not serve purpose ${purpose ?? '(none)'}`, { status: 403 });
    }
    const limits = model.config.limits;
    const maxTokens = call.request.maxTokens ?? limits.maxTokens;
    if (maxTokens > limits.maxTokens) {
      throw new WardError('request.invalid', `max_tokens exceeds model ${model.id}'s limit of ${limits.maxTokens}`, { status: 400 });
    }
    // An unusable schema is the caller's mistake: refused (400) before any model is called.
    if (call.request.jsonSchema !== undefined) this.deps.jsonGuard.compile(call.request.jsonSchema.schema);
    const verdict = this.deps.rateLimits.admit(caller.who.id, model.id);
    if (!verdict.ok) {
      throw new WardError(verdict.code, verdict.code === 'gateway.quota_exhausted' ? 'the daily token quota is used up' : 'too many requests', { status: 429, extra: { retryAfterSeconds: verdict.retryAfterSeconds } });
    }
    return { model, maxTokens };
  }

  /** The plan for a zone (computed once per zone along a fallback chain). */
  private planFor(zone: TrustZone, request: ChatRequest, caller: ChatCaller, plans: Map<TrustZone, PromptPlan>, state: CallState): Extract<PromptPlan, { send: true }> {
    let plan = plans.get(zone);
    if (plan === undefined) {
      plan = planPrompt({ request, zone, deidentify: caller.obligations.deidentify, patient: caller.auditFields.patient, externalPhi: this.deps.settings.externalPhi }, this.deps.dictionaries);
      plans.set(zone, plan);
    }
    state.facts.categories = plan.categories;
    if (!plan.send) {
      const messages: Record<typeof plan.code, string> = {
        'egress.phi_refused': 'the prompt holds PHI and this organization sends none to external models',
        'egress.deidentification_failed': 'the prompt could not be de-identified for this model, so it was not sent',
        'egress.patient_required': 'a prompt with PHI for a business associate must name the patient (X-Ward-Patient), for the accounting of disclosures',
      };
      throw new WardError(plan.code, messages[plan.code], { status: plan.code === 'egress.patient_required' ? 400 : 403, extra: { phi: plan.categories.join('+') || 'none' } });
    }
    state.facts.deidentified = plan.deidentified;
    state.facts.sentHash = plan.deidentified ? this.deps.hashText(messagesDigestInput(plan.request.messages)) : state.facts.promptHash;
    return plan;
  }

  /** Re-identify an answer when the prompt was de-identified only because of the zone (not by the permit's obligation). */
  private finish(text: string, plan: Extract<PromptPlan, { send: true }>, caller: ChatCaller, state: CallState): string {
    if (!plan.deidentified || caller.obligations.deidentify || !this.deps.settings.reidentifyExternal) return text;
    const out = reidentify(text, plan.placeholders);
    if (out !== text) state.facts.reidentified = true;
    return out;
  }

  /** Block an answer that names a patient other than the one in scope (or any patient, with none in scope). */
  private async guardIdentifiers(text: string, caller: ChatCaller, state: CallState): Promise<void> {
    // Normalized first: a zero-width space or fullwidth digits must not hide an identifier.
    const normalized = normalizeText(text);
    const candidates = identifierCandidates(normalized, analyze(normalized, this.deps.dictionaries));
    if (candidates.length === 0) return;
    const unknown = candidates.filter((c) => !state.owners.has(c.value));
    if (unknown.length > 0) for (const [value, ids] of await this.deps.identifierOwners(unknown)) state.owners.set(value, ids);
    const patient = caller.auditFields.patient;
    const verdict = identifierScopeVerdict({ candidates, owners: state.owners, ...(patient !== undefined ? { scopePatient: patient } : {}) });
    if (!verdict.ok) {
      throw new WardError(verdict.code, 'the answer named a patient outside the scope of this request and was withheld', { status: 502, extra: { types: verdict.types.join('+') } });
    }
    // Counted once per value: a streamed answer is judged in overlapping windows.
    for (const c of candidates) if ((state.owners.get(c.value) ?? []).length === 0) state.unresolved.add(c.value);
    state.facts.unresolvedIdentifiers = state.unresolved.size;
  }

  /** Run `attempt` on the model, then on its fallbacks while the failure is the model's. */
  private async withFallback<T>(model: RegisteredModel, attempt: (m: RegisteredModel) => Promise<T>): Promise<T> {
    const chain = this.deps.registry.chain(model);
    let last: unknown;
    for (const m of chain) {
      try {
        return await attempt(m);
      } catch (e) {
        last = e;
        if (!isWardError(e) || !RETRYABLE.has(e.code)) throw e;
      }
    }
    throw last;
  }

  /** Hold a slot of the model and run `work` with a signal that fires on caller abort or the model's timeout. */
  private async inSlot<T>(m: RegisteredModel, caller: ChatCaller, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const release = await m.slots.acquire(caller.signal);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), m.config.limits.timeoutMs);
    try {
      return await work(AbortSignal.any([caller.signal, timeout.signal]));
    } catch (e) {
      if (timeout.signal.aborted && !caller.signal.aborted) throw timedOut(m);
      throw e;
    } finally {
      clearTimeout(timer);
      release();
    }
  }

  private async completeWithGuards(call: ChatCall, caller: ChatCaller, state: CallState): Promise<ChatAnswer> {
    const { model, maxTokens } = this.admit(call, caller, state);
    const request: ChatRequest = { ...call.request, maxTokens };
    const plans = new Map<TrustZone, PromptPlan>();
    const answer = await this.withFallback(model, async (m) => {
      const plan = this.planFor(m.zone, request, caller, plans, state);
      state.facts.answeredBy = { id: m.id, zone: m.zone, ...(m.baa !== undefined ? { baa: m.baa } : {}) };
      let result = await this.call(m, plan.request, caller, state);
      if (request.jsonSchema !== undefined) {
        // Invalid or truncated JSON is retried once on the same model, then refused.
        let verdict = this.deps.jsonGuard.check(request.jsonSchema.schema, result.text, result.finishReason);
        if (!verdict.ok) {
          result = await this.call(m, plan.request, caller, state);
          verdict = this.deps.jsonGuard.check(request.jsonSchema.schema, result.text, result.finishReason);
        }
        if (!verdict.ok) throw new WardError(verdict.code, `the model's answer did not satisfy the requested schema (${verdict.paths.slice(0, 5).join(', ') || 'not JSON'})`, { status: 502 });
      }
      return { model: m, plan, result };
    });
    let text = this.finish(answer.result.text, answer.plan, caller, state);
    if (request.jsonSchema !== undefined && text !== answer.result.text) {
      // Originals put back inside JSON strings (escaped), then the schema is checked again: an
      // original may be longer than the schema allows, or outside an enum of placeholders.
      text = reidentifyJson(answer.result.text, answer.plan.placeholders);
      const verdict = this.deps.jsonGuard.check(request.jsonSchema.schema, text, answer.result.finishReason);
      if (!verdict.ok) throw new WardError(verdict.code, 'the answer did not satisfy the requested schema once re-identified', { status: 502 });
    }
    await this.guardIdentifiers(text, caller, state);
    state.facts.responseHash = this.deps.hashText(text);
    return { model: answer.model, text, finishReason: answer.result.finishReason, usage: answer.result.usage, deidentified: answer.plan.deidentified };
  }

  private async call(m: RegisteredModel, request: ChatRequest, caller: ChatCaller, state: CallState): Promise<ChatResult> {
    state.facts.attempts += 1;
    const result = await this.inSlot(m, caller, (signal) => m.adapter.complete(request, signal));
    this.countTokens(caller, state, result.usage);
    return result;
  }

  private countTokens(caller: ChatCaller, state: CallState, usage: TokenUsage): void {
    state.facts.promptTokens += usage.promptTokens;
    state.facts.completionTokens += usage.completionTokens;
    this.deps.rateLimits.recordTokens(caller.who.id, usage.promptTokens + usage.completionTokens);
  }

  private async *streamWithGuards(call: ChatCall, caller: ChatCaller, state: CallState): AsyncGenerator<ChatStreamPiece> {
    const { model, maxTokens } = this.admit(call, caller, state);
    const request: ChatRequest = { ...call.request, maxTokens };
    const plans = new Map<TrustZone, PromptPlan>();
    const chain = this.deps.registry.chain(model);
    for (let i = 0; i < chain.length; i += 1) {
      const m = chain[i] as RegisteredModel;
      const plan = this.planFor(m.zone, request, caller, plans, state);
      state.facts.answeredBy = { id: m.id, zone: m.zone, ...(m.baa !== undefined ? { baa: m.baa } : {}) };
      state.facts.attempts += 1;
      const release = await m.slots.acquire(caller.signal);
      const timeout = new AbortController();
      // The slot is given back at the timeout even if the consumer stopped reading (the generator
      // is then suspended and its finally would not run until it is resumed or returned).
      const timer = setTimeout(() => {
        timeout.abort();
        release();
      }, m.config.limits.timeoutMs);
      const signal = AbortSignal.any([caller.signal, timeout.signal]);
      const holdback = new StreamHoldback();
      let released = '';
      let started = false;
      let counted = false;
      try {
        const release1 = async (raw: string): Promise<string> => {
          const piece = this.finish(raw, plan, caller, state);
          if (piece === '') return '';
          // The piece is judged with text before it and everything received but not yet
          // released after it, so an identifier that straddles a cut (digit groups with spaces
          // between them) is seen whole before any part of it leaves.
          const pending = this.finish(holdback.text.slice(holdback.released), plan, caller, state);
          await this.guardIdentifiers(released.slice(-SCAN_OVERLAP) + piece + pending, caller, state);
          released += piece;
          return piece;
        };
        for await (const event of m.adapter.stream(plan.request, signal)) {
          if (event.type === 'delta') {
            const out = await release1(holdback.push(event.text));
            if (out === '') continue;
            if (!started) {
              started = true;
              yield { type: 'start', model: m, deidentified: plan.deidentified };
            }
            yield { type: 'delta', text: out };
          } else {
            const rest = await release1(holdback.end());
            if (!started) {
              started = true;
              yield { type: 'start', model: m, deidentified: plan.deidentified };
            }
            if (rest !== '') yield { type: 'delta', text: rest };
            this.countTokens(caller, state, event.usage);
            counted = true;
            state.facts.responseHash = this.deps.hashText(released);
            yield { type: 'end', finishReason: event.finishReason, usage: event.usage };
            return;
          }
        }
        throw new WardError('model.upstream_invalid', 'the model stream ended without its end event', { status: 502 });
      } catch (e) {
        const err = timeout.signal.aborted && !caller.signal.aborted ? timedOut(m) : e;
        // Fallback only while nothing has been sent: a stream cannot be taken back.
        if (started || !isWardError(err) || !RETRYABLE.has(err.code) || i === chain.length - 1) {
          if (started) state.facts.responseHash = this.deps.hashText(released);
          throw err;
        }
      } finally {
        clearTimeout(timer);
        release();
        // A stream that stopped early still used the model: an estimate (4 characters a token)
        // counts against the quota, or dropping streams would make the quota free.
        if (!counted) {
          const promptChars = plan.request.messages.reduce((n, msg) => n + msg.content.length, 0);
          this.countTokens(caller, state, { promptTokens: Math.ceil(promptChars / 4), completionTokens: Math.ceil(holdback.text.length / 4) });
        }
      }
    }
  }
}
